#!/usr/bin/env bash
# awscli-tasks.sh runs tasks on a berth (server + agent) with the AWS CLI v2
# (Debian package awscli, /usr/bin/aws) and the CLI's own waiters:
# run-task, `aws ecs wait tasks-running`, stop-task, `aws ecs wait
# tasks-stopped`. The agent must be able to run `sleep` (the process
# runtime runs it on the host; the Docker runtime needs the image).
#
# Environment (all required): BERTH_ENDPOINT, AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_REGION. Optional: BERTH_CLUSTER (default
# "default", the cluster berth dev's agent joins).
set -euo pipefail

# shellcheck source=lib/awscli.sh
. "$(dirname "$0")/lib/awscli.sh"
FAMILY="awscli-tasks-$$"

step "register a task definition that sleeps"
cat >"$TMP/td.json" <<JSON
{"family": "$FAMILY", "containerDefinitions": [{"name": "sleeper", "image": "busybox:1.36",
 "command": ["sleep", "600"], "memory": 32, "cpu": 16, "stopTimeout": 5}]}
JSON
ecs register-task-definition --cli-input-json "file://$TMP/td.json" --query 'taskDefinition.revision' --output text >/dev/null

step "run-task --count 2"
ecs run-task --cluster "$CLUSTER" --task-definition "$FAMILY" --count 2 --started-by awscli-test \
	--query 'tasks[].taskArn' --output text >"$TMP/arns"
read -r -a TASKS <"$TMP/arns"
expect "tasks placed" "${#TASKS[@]}" 2

step "aws ecs wait tasks-running"
ecs wait tasks-running --cluster "$CLUSTER" --tasks "${TASKS[@]}" >/dev/null
got=$(ecs describe-tasks --cluster "$CLUSTER" --tasks "${TASKS[@]}" --query 'tasks[].lastStatus' --output text | tr '\t' ' ')
expect "lastStatus" "$got" "RUNNING RUNNING"
got=$(ecs describe-tasks --cluster "$CLUSTER" --tasks "${TASKS[0]}" --query 'tasks[0].[startedBy, containers[0].lastStatus, length(containers[0].runtimeId) > `0`]' --output text | tr '\t' ' ')
expect "startedBy, container status, runtimeId set" "$got" "awscli-test RUNNING True"

step "list-tasks finds them"
got=$(ecs list-tasks --cluster "$CLUSTER" --started-by awscli-test --query 'length(taskArns)' --output text)
expect "listed by startedBy" "$got" 2

step "stop-task with a reason"
got=$(ecs stop-task --cluster "$CLUSTER" --task "${TASKS[0]}" --reason "stopped by the CLI test" --query 'task.desiredStatus' --output text)
expect "desiredStatus after stop-task" "$got" STOPPED

step "aws ecs wait tasks-stopped"
ecs wait tasks-stopped --cluster "$CLUSTER" --tasks "${TASKS[0]}" >/dev/null
got=$(ecs describe-tasks --cluster "$CLUSTER" --tasks "${TASKS[0]}" \
	--query 'tasks[0].[lastStatus, stopCode, stoppedReason, containers[0].exitCode]' --output text | tr '\t' '|')
expect "stopped task" "$got" "STOPPED|UserInitiated|stopped by the CLI test|143"

step "the other task still runs; stop it too"
got=$(ecs describe-tasks --cluster "$CLUSTER" --tasks "${TASKS[1]}" --query 'tasks[0].lastStatus' --output text)
expect "second task" "$got" RUNNING
ecs stop-task --cluster "$CLUSTER" --task "${TASKS[1]}" >/dev/null
ecs wait tasks-stopped --cluster "$CLUSTER" --tasks "${TASKS[1]}" >/dev/null
ok "second task stopped"

step "errors exit with 254"
rc=0
"$AWS" --endpoint-url "$BERTH_ENDPOINT" --region "$AWS_REGION" ecs run-task --cluster "$CLUSTER" \
	--task-definition "$FAMILY" --count 11 >/dev/null 2>"$TMP/err" || rc=$?
expect "exit code for count 11" "$rc" 254
grep -q InvalidParameterException "$TMP/err" || fail "stderr does not name InvalidParameterException: $(cat "$TMP/err")"
rc=0
"$AWS" --endpoint-url "$BERTH_ENDPOINT" --region "$AWS_REGION" ecs run-task --cluster "$CLUSTER" \
	--task-definition "no-such-family-$$" >/dev/null 2>"$TMP/err" || rc=$?
expect "exit code for an unknown task definition" "$rc" 254
grep -q ClientException "$TMP/err" || fail "stderr does not name ClientException: $(cat "$TMP/err")"

echo "PASS"
