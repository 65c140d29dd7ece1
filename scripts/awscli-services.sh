#!/usr/bin/env bash
# awscli-services.sh runs an ECS service on berth with the AWS CLI v2
# (Debian package awscli, /usr/bin/aws) and the CLI's own waiters:
# create-service, `aws ecs wait services-stable`, update-service (a rolling
# deployment to a new revision), delete-service, `aws ecs wait
# services-inactive`. The agent must be able to run `sleep` (the process
# runtime runs it on the host).
#
# Environment (all required): BERTH_ENDPOINT, AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_REGION. Optional: BERTH_CLUSTER (default
# "default").
set -euo pipefail

# shellcheck source=lib/awscli.sh
. "$(dirname "$0")/lib/awscli.sh"
NAME="awscli-svc-$$"
register() { # register REVISION_MARKER → prints the revision
	cat >"$TMP/td.json" <<JSON
{"family": "$NAME", "containerDefinitions": [{"name": "app", "image": "busybox:1.36",
 "command": ["sleep", "600"], "memory": 32, "cpu": 16, "stopTimeout": 5,
 "environment": [{"name": "VERSION", "value": "$1"}]}]}
JSON
	ecs register-task-definition --cli-input-json "file://$TMP/td.json" --query 'taskDefinition.revision' --output text
}

step "register v1 and create a service of 2 tasks"
rev=$(register v1)
got=$(ecs create-service --cluster "$CLUSTER" --service-name "$NAME" --task-definition "$NAME:$rev" --desired-count 2 \
	--deployment-configuration 'minimumHealthyPercent=50,maximumPercent=200,deploymentCircuitBreaker={enable=true,rollback=true}' \
	--query 'service.[status, desiredCount, length(deployments), deployments[0].status, deployments[0].rolloutState]' --output text | tr '\t' ' ')
expect "created service" "$got" "ACTIVE 2 1 PRIMARY IN_PROGRESS"

step "aws ecs wait services-stable"
ecs wait services-stable --cluster "$CLUSTER" --services "$NAME" >/dev/null
got=$(ecs describe-services --cluster "$CLUSTER" --services "$NAME" --query 'services[0].[runningCount, length(deployments)]' --output text | tr '\t' ' ')
expect "running tasks and deployments" "$got" "2 1"
got=$(ecs list-tasks --cluster "$CLUSTER" --service-name "$NAME" --query 'length(taskArns)' --output text)
expect "list-tasks --service-name" "$got" 2

step "update-service to v2 (a rolling deployment)"
rev2=$(register v2)
got=$(ecs update-service --cluster "$CLUSTER" --service "$NAME" --task-definition "$NAME:$rev2" \
	--query 'service.[length(deployments), deployments[0].status, deployments[1].status]' --output text | tr '\t' ' ')
expect "deployments after update" "$got" "2 PRIMARY ACTIVE"
ecs wait services-stable --cluster "$CLUSTER" --services "$NAME" >/dev/null
got=$(ecs describe-services --cluster "$CLUSTER" --services "$NAME" \
	--query 'services[0].[runningCount, length(deployments), taskDefinition]' --output text | tr '\t' ' ')
[[ "$got" == "2 1 "*":task-definition/$NAME:$rev2" ]] || fail "after the rollout: got '$got', want 2 tasks, one deployment, revision $rev2"
ok "rolled to revision $rev2"
running=$(ecs list-tasks --cluster "$CLUSTER" --service-name "$NAME" --query 'taskArns' --output text)
# shellcheck disable=SC2086
got=$(ecs describe-tasks --cluster "$CLUSTER" --tasks $running --query 'tasks[].taskDefinitionArn' --output text | tr '\t' '\n' | sort -u | sed 's/.*://')
expect "revision of every running task" "$got" "$rev2"
got=$(ecs describe-services --cluster "$CLUSTER" --services "$NAME" --query "length(services[0].events[?contains(message, 'has started')])" --output text)
[[ "$got" -ge 2 ]] || fail "got $got 'has started' events, want at least 2"
ok "service events recorded"

step "scale with update-service --desired-count"
ecs update-service --cluster "$CLUSTER" --service "$NAME" --desired-count 3 >/dev/null
ecs wait services-stable --cluster "$CLUSTER" --services "$NAME" >/dev/null
got=$(ecs describe-services --cluster "$CLUSTER" --services "$NAME" --query 'services[0].[runningCount, length(deployments)]' --output text | tr '\t' ' ')
expect "after scaling" "$got" "3 1"

step "delete-service refuses a scaled service, --force drains it"
rc=0
"$AWS" --endpoint-url "$BERTH_ENDPOINT" --region "$AWS_REGION" ecs delete-service --cluster "$CLUSTER" --service "$NAME" \
	>/dev/null 2>"$TMP/err" || rc=$?
expect "exit code without --force" "$rc" 254
grep -q InvalidParameterException "$TMP/err" || fail "stderr does not name InvalidParameterException: $(cat "$TMP/err")"
got=$(ecs delete-service --cluster "$CLUSTER" --service "$NAME" --force --query 'service.status' --output text)
[[ "$got" == DRAINING || "$got" == INACTIVE ]] || fail "delete-service --force: got status $got, want DRAINING or INACTIVE"
ok "status after delete-service = $got"

step "aws ecs wait services-inactive"
ecs wait services-inactive --cluster "$CLUSTER" --services "$NAME" >/dev/null
got=$(ecs list-services --cluster "$CLUSTER" --query "length(serviceArns[?ends_with(@, '/$NAME')])" --output text)
expect "inactive service listed" "$got" 0
got=$(ecs list-tasks --cluster "$CLUSTER" --service-name "$NAME" --query 'length(taskArns)' --output text)
expect "tasks left running" "$got" 0

echo "PASS"
