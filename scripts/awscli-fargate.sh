#!/usr/bin/env bash
# awscli-fargate.sh runs a Fargate task on berth with the AWS CLI v2 (Debian
# package awscli, /usr/bin/aws): register-task-definition of a Fargate task
# definition (awsvpc, task-level cpu and memory), run-task --launch-type
# FARGATE --network-configuration, `aws ecs wait tasks-running`, the task's
# address from describe-tasks, a page fetched from it (curl), ECS's
# errors for bad awsvpc and FARGATE input, stop-task and `aws ecs wait
# tasks-stopped`. The host running the script must route to the task
# subnets (on the agent's host, or with a route to it).
#
# Environment (required): BERTH_ENDPOINT, AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_REGION, BERTH_TASK_IMAGE (an image serving
# HTTP on 8080, such as berth-demo:1). Optional: BERTH_TASK_ENTRYPOINT (a
# JSON array: the container's entryPoint, for the process runtime),
# BERTH_CLUSTER (default "default").
set -euo pipefail

# shellcheck source=lib/awscli.sh
. "$(dirname "$0")/lib/awscli.sh"
[[ -n "${BERTH_TASK_IMAGE:-}" ]] || fail "BERTH_TASK_IMAGE is not set"
ENTRYPOINT="${BERTH_TASK_ENTRYPOINT:-null}"
FAMILY="awscli-fargate-$$"
NET='awsvpcConfiguration={subnets=[subnet-12345678],securityGroups=[sg-12345678],assignPublicIp=ENABLED}'

# expect_error EXCEPTION TEXT ARGS... runs aws ecs ARGS, which must fail with
# the CLI's exit code for a service error and name EXCEPTION and TEXT.
expect_error() {
	local want="$1" text="$2" rc=0
	shift 2
	"$AWS" --endpoint-url "$BERTH_ENDPOINT" --region "$AWS_REGION" ecs "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	((rc == 254 || rc == 255)) || fail "aws ecs $*: exit code $rc, want a service error; stderr: $(cat "$TMP/err")"
	grep -q "($want)" "$TMP/err" || fail "aws ecs $*: stderr does not name $want: $(cat "$TMP/err")"
	grep -qF "$text" "$TMP/err" || fail "aws ecs $*: stderr does not say '$text': $(cat "$TMP/err")"
	ok "$want: $text"
}

step "register a Fargate task definition"
cat >"$TMP/td.json" <<JSON
{"family": "$FAMILY", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
 "cpu": "256", "memory": "512",
 "containerDefinitions": [{"name": "web", "image": "$BERTH_TASK_IMAGE", "entryPoint": $ENTRYPOINT, "essential": true,
   "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]}]}
JSON
got=$(ecs register-task-definition --cli-input-json "file://$TMP/td.json" \
	--query 'taskDefinition.[networkMode, contains(compatibilities, `FARGATE`), containerDefinitions[0].portMappings[0].hostPort]' --output text | tr '\t' ' ')
expect "network mode, FARGATE compatible, hostPort" "$got" "awsvpc True 8080"

step "bad input"
expect_error InvalidParameterException "Network Configuration must be provided when networkMode 'awsvpc' is specified." \
	run-task --cluster "$CLUSTER" --task-definition "$FAMILY" --launch-type FARGATE
expect_error InvalidParameterException "Assign public IP is not supported for this launch type." \
	run-task --cluster "$CLUSTER" --task-definition "$FAMILY" --launch-type EC2 --network-configuration "$NET"
expect_error InvalidParameterException "The platform version must be null when specifying an EC2 launch type." \
	run-task --cluster "$CLUSTER" --task-definition "$FAMILY" --launch-type EC2 --platform-version LATEST \
	--network-configuration 'awsvpcConfiguration={subnets=[subnet-12345678]}'
cat >"$TMP/bridge.json" <<JSON
{"family": "$FAMILY-bridge", "containerDefinitions": [{"name": "web", "image": "$BERTH_TASK_IMAGE", "memory": 64}]}
JSON
ecs register-task-definition --cli-input-json "file://$TMP/bridge.json" >/dev/null
expect_error InvalidParameterException "Task definition does not support launch_type FARGATE." \
	run-task --cluster "$CLUSTER" --task-definition "$FAMILY-bridge" --launch-type FARGATE
expect_error ClientException "Fargate only supports network mode" \
	register-task-definition --family "$FAMILY-bad" --requires-compatibilities FARGATE --cpu 256 --memory 512 \
	--container-definitions '[{"name":"web","image":"x"}]'

step "run-task --launch-type FARGATE --network-configuration"
got=$(ecs run-task --cluster "$CLUSTER" --task-definition "$FAMILY" --launch-type FARGATE --network-configuration "$NET" \
	--query 'tasks[0].[taskArn, launchType, lastStatus, attachments[0].type, attachments[0].status]' --output text)
read -r TASK launch status atype astatus <<<"$got"
expect "launch type, status, attachment" "$launch $status $atype $astatus" "FARGATE PROVISIONING ElasticNetworkInterface PRECREATED"

step "aws ecs wait tasks-running"
ecs wait tasks-running --cluster "$CLUSTER" --tasks "$TASK" >/dev/null
got=$(ecs describe-tasks --cluster "$CLUSTER" --tasks "$TASK" \
	--query 'tasks[0].[lastStatus, capacityProviderName, platformVersion, attachments[0].status, length(containers[0].networkBindings)]' --output text | tr '\t' ' ')
expect "running Fargate task" "$got" "RUNNING FARGATE 1.4.0 ATTACHED 0"
IP=$(ecs describe-tasks --cluster "$CLUSTER" --tasks "$TASK" \
	--query "tasks[0].attachments[0].details[?name=='privateIPv4Address'].value | [0]" --output text)
got=$(ecs describe-tasks --cluster "$CLUSTER" --tasks "$TASK" --query 'tasks[0].containers[0].networkInterfaces[0].privateIpv4Address' --output text)
expect "the container's interface" "$got" "$IP"

step "fetch a page from the task at $IP:8080"
for _ in $(seq 100); do
	if curl -fsS --max-time 2 "http://$IP:8080/" >"$TMP/page" 2>/dev/null; then break; fi
	sleep 0.1
done
grep -q '"pid"' "$TMP/page" || fail "no page from $IP:8080: $(cat "$TMP/page" 2>/dev/null)"
ok "the task answered at its own address"

step "stop-task, aws ecs wait tasks-stopped"
ecs stop-task --cluster "$CLUSTER" --task "$TASK" >/dev/null
ecs wait tasks-stopped --cluster "$CLUSTER" --tasks "$TASK" >/dev/null
got=$(ecs describe-tasks --cluster "$CLUSTER" --tasks "$TASK" --query 'tasks[0].[lastStatus, attachments[0].status]' --output text | tr '\t' ' ')
expect "stopped task and its attachment" "$got" "STOPPED DELETED"
echo "PASS"
