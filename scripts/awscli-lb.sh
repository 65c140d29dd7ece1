#!/usr/bin/env bash
# awscli-lb.sh puts an ECS service behind berth's built-in Application Load
# Balancer with the AWS CLI v2 (Debian package awscli, /usr/bin/aws) and the
# CLI's own ELBv2 waiters: create-load-balancer, create-target-group
# (instance targets, health check on the demo app's /health),
# modify-target-group-attributes, create-listener (fixed 404 by default),
# create-rule (path / forwards to the target group), register-task-definition
# (the demo image in bridge mode on a dynamic host port), create-service
# --load-balancers, `aws elbv2 wait target-in-service`,
# describe-target-health, curl through the listener, a scale-in that drains
# one target (`aws elbv2 wait target-deregistered`), the service's events,
# ELB's and ECS's errors for bad input, and the clean-up (`aws elbv2 wait
# load-balancers-deleted`).
#
# The agent must run the demo image berth-demo:1 on Docker (what `berth dev`
# does when a Docker engine answers), and the server must have a load
# balancer address pool (`berth dev` has one) whose addresses this host
# reaches (loopback for `berth dev`).
#
# Environment (all required): BERTH_ENDPOINT, AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_REGION. Optional: BERTH_CLUSTER (default
# "default"), BERTH_LB_PORT (the listener's port, default 8000).
set -euo pipefail

# shellcheck source=lib/awscli.sh
. "$(dirname "$0")/lib/awscli.sh"
command -v curl >/dev/null || fail "curl is required"
NAME="cli-lb-$$"
PORT="${BERTH_LB_PORT:-8000}"

elbv2() { # aws elbv2 with berth's endpoint; fails the script on an error
	local rc=0
	"$AWS" --endpoint-url "$BERTH_ENDPOINT" --region "$AWS_REGION" elbv2 "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	((rc == 0)) || fail "aws elbv2 $* exited with $rc: $(cat "$TMP/err")"
	cat "$TMP/out"
}

# expect_error SERVICE CODE ARGS... runs aws SERVICE ARGS, which must fail
# with the CLI v2's exit code for a service error (254) and name CODE.
expect_error() {
	local svc="$1" want="$2" rc=0
	shift 2
	"$AWS" --endpoint-url "$BERTH_ENDPOINT" --region "$AWS_REGION" "$svc" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	((rc == 254)) || fail "aws $svc $*: exit code $rc, want 254; stderr: $(cat "$TMP/err")"
	grep -q "($want)" "$TMP/err" || fail "aws $svc $*: stderr does not name $want: $(cat "$TMP/err")"
	ok "$want: $(tr -d '\n' <"$TMP/err" | sed 's/.*operation: //')"
}

# Clean up whatever is left when the script fails half-way (every call may
# fail: the resource may not exist).
LB_ARN="" TG_ARN="" IP_TG_ARN="" LISTENER_ARN="" RULE_ARN=""
cleanup() {
	local rc=$?
	if ((rc != 0)); then
		echo "--- cleaning up after a failure"
		q() { "$AWS" --endpoint-url "$BERTH_ENDPOINT" --region "$AWS_REGION" "$@" >/dev/null 2>&1 || true; }
		q ecs delete-service --cluster "$CLUSTER" --service "$NAME" --force
		q ecs delete-service --cluster "$CLUSTER" --service "$NAME-ip" --force
		[[ -z "$RULE_ARN" ]] || q elbv2 delete-rule --rule-arn "$RULE_ARN"
		[[ -z "$LISTENER_ARN" ]] || q elbv2 delete-listener --listener-arn "$LISTENER_ARN"
		[[ -z "$TG_ARN" ]] || q elbv2 delete-target-group --target-group-arn "$TG_ARN"
		[[ -z "$IP_TG_ARN" ]] || q elbv2 delete-target-group --target-group-arn "$IP_TG_ARN"
		[[ -z "$LB_ARN" ]] || q elbv2 delete-load-balancer --load-balancer-arn "$LB_ARN"
	fi
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT

step "the agent runs Docker (the demo image needs it)"
got=0
for i in $(seq 1 60); do # berth dev's agent registers shortly after the API answers
	got=$("$AWS" --endpoint-url "$BERTH_ENDPOINT" --region "$AWS_REGION" ecs list-container-instances --cluster "$CLUSTER" \
		--query 'length(containerInstanceArns)' --output text 2>/dev/null) || got=0
	[[ "$got" -ge 1 ]] && break
	sleep 0.5
done
[[ "$got" -ge 1 ]] || fail "cluster $CLUSTER has no container instances after 30 s"
instance=$(ecs list-container-instances --cluster "$CLUSTER" --query 'containerInstanceArns[0]' --output text)
runtime=$(ecs describe-container-instances --cluster "$CLUSTER" --container-instances "$instance" \
	--query "containerInstances[0].attributes[?name=='berth.runtime'].value | [0]" --output text)
ec2id=$(ecs describe-container-instances --cluster "$CLUSTER" --container-instances "$instance" \
	--query 'containerInstances[0].ec2InstanceId' --output text)
[[ "$runtime" == docker ]] || fail "the container instance's runtime is '$runtime': run berth dev where a Docker engine answers (the demo image berth-demo:1 needs Docker)"
ok "instance $ec2id, runtime docker"

step "create-load-balancer (application)"
LB_ARN=$(elbv2 create-load-balancer --name "$NAME" --type application --subnets subnet-a subnet-b \
	--query 'LoadBalancers[0].LoadBalancerArn' --output text)
got=$(elbv2 describe-load-balancers --load-balancer-arns "$LB_ARN" --query 'LoadBalancers[0].[LoadBalancerName, Type, Scheme]' --output text | tr '\t' ' ')
expect "load balancer" "$got" "$NAME application internet-facing"
ADDR=$(elbv2 describe-load-balancers --names "$NAME" \
	--query 'LoadBalancers[0].AvailabilityZones[0].LoadBalancerAddresses[0].IpAddress' --output text)
[[ "$ADDR" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "describe-load-balancers: no address, got '$ADDR'"
ok "address $ADDR"
elbv2 wait load-balancer-available --load-balancer-arns "$LB_ARN" >/dev/null
ok "aws elbv2 wait load-balancer-available"

step "create-target-group (instance targets, health check /health) and its deregistration delay"
TG_ARN=$(elbv2 create-target-group --name "$NAME" --protocol HTTP --port 8080 --vpc-id vpc-berth --target-type instance \
	--health-check-path /health --health-check-interval-seconds 5 --health-check-timeout-seconds 2 \
	--healthy-threshold-count 2 --unhealthy-threshold-count 2 \
	--query 'TargetGroups[0].TargetGroupArn' --output text)
got=$(elbv2 describe-target-groups --target-group-arns "$TG_ARN" \
	--query 'TargetGroups[0].[TargetType, Protocol, Port, HealthCheckPath, HealthCheckIntervalSeconds, HealthyThresholdCount]' --output text | tr '\t' ' ')
expect "target group" "$got" "instance HTTP 8080 /health 5 2"
got=$(elbv2 modify-target-group-attributes --target-group-arn "$TG_ARN" --attributes Key=deregistration_delay.timeout_seconds,Value=5 \
	--query "Attributes[?Key=='deregistration_delay.timeout_seconds'].Value | [0]" --output text)
expect "deregistration delay" "$got" 5

step "create-listener HTTP:$PORT (fixed-response 404 by default) and a rule forwarding / to the target group"
LISTENER_ARN=$(elbv2 create-listener --load-balancer-arn "$LB_ARN" --protocol HTTP --port "$PORT" \
	--default-actions 'Type=fixed-response,FixedResponseConfig={StatusCode=404,ContentType=text/plain,MessageBody=no route}' \
	--query 'Listeners[0].ListenerArn' --output text)
RULE_ARN=$(elbv2 create-rule --listener-arn "$LISTENER_ARN" --priority 10 \
	--conditions 'Field=path-pattern,Values=/' --actions "Type=forward,TargetGroupArn=$TG_ARN" \
	--query 'Rules[0].RuleArn' --output text)
got=$(elbv2 describe-rules --listener-arn "$LISTENER_ARN" --query 'Rules[].[Priority, Actions[0].Type]' --output text | tr '\t\n' '  ')
expect "rules" "$got" "10 forward default fixed-response "
got=$(elbv2 describe-target-health --target-group-arn "$TG_ARN" --query 'length(TargetHealthDescriptions)' --output text)
expect "targets before the service" "$got" 0

step "register the demo task definition (bridge, dynamic host port)"
cat >"$TMP/td.json" <<JSON
{"family": "$NAME", "networkMode": "bridge", "containerDefinitions": [{"name": "app", "image": "berth-demo:1",
 "memory": 64, "cpu": 64, "essential": true, "portMappings": [{"containerPort": 8080, "hostPort": 0}],
 "healthCheck": {"command": ["CMD", "/berth", "demo-app", "health"], "interval": 5, "timeout": 5, "retries": 5, "startPeriod": 15}}]}
JSON
rev=$(ecs register-task-definition --cli-input-json "file://$TMP/td.json" --query 'taskDefinition.revision' --output text)
ok "$NAME:$rev"

step "create-service --load-balancers (2 tasks)"
got=$(ecs create-service --cluster "$CLUSTER" --service-name "$NAME" --task-definition "$NAME:$rev" --desired-count 2 \
	--load-balancers "targetGroupArn=$TG_ARN,containerName=app,containerPort=8080" --health-check-grace-period-seconds 15 \
	--deployment-configuration 'minimumHealthyPercent=100,maximumPercent=200' \
	--query 'service.[status, desiredCount, loadBalancers[0].containerName, loadBalancers[0].containerPort]' --output text | tr '\t' ' ')
expect "created service" "$got" "ACTIVE 2 app 8080"

step "aws elbv2 wait target-in-service (the CLI polls every 15 s)"
for i in $(seq 1 40); do
	got=$(ecs list-tasks --cluster "$CLUSTER" --service-name "$NAME" --desired-status RUNNING --query 'length(taskArns)' --output text)
	[[ "$got" == 2 ]] && break
	sleep 0.5
done
expect "service tasks" "$got" 2
tasks=$(ecs list-tasks --cluster "$CLUSTER" --service-name "$NAME" --query 'taskArns' --output text)
# shellcheck disable=SC2086
ecs wait tasks-running --cluster "$CLUSTER" --tasks $tasks >/dev/null
# shellcheck disable=SC2086
ports=$(ecs describe-tasks --cluster "$CLUSTER" --tasks $tasks --query 'tasks[].containers[0].networkBindings[0].hostPort' --output text | tr '\t' '\n' | sort -n | tr '\n' ' ')
read -r port1 port2 <<<"$ports"
[[ -n "${port2:-}" && "$port1" != "$port2" ]] || fail "host ports of the two tasks: '$ports'"
ok "host ports $port1 $port2"
elbv2 wait target-in-service --target-group-arn "$TG_ARN" --targets "Id=$ec2id,Port=$port1" "Id=$ec2id,Port=$port2" >/dev/null
got=$(elbv2 describe-target-health --target-group-arn "$TG_ARN" \
	--query 'TargetHealthDescriptions[].[Target.Id, Target.Port, TargetHealth.State]' --output text | sort -k2n | tr '\t\n' '  ')
expect "target health" "$got" "$ec2id $port1 healthy $ec2id $port2 healthy "

step "curl through the listener at $ADDR:$PORT"
body=$(curl -sS --max-time 5 "http://$ADDR:$PORT/") || fail "curl http://$ADDR:$PORT/ failed"
[[ "$body" == *'"args":["/berth","demo-app"'* ]] || fail "GET / through the load balancer: want the demo app's JSON echo, got: $body"
ok "GET / answered by the demo app"
hosts=""
for i in $(seq 1 10); do
	h=$(curl -sS --max-time 5 "http://$ADDR:$PORT/" | sed -n 's/.*"hostname":"\([^"]*\)".*/\1/p')
	[[ " $hosts " == *" $h "* ]] || hosts="$hosts $h"
done
got=$(wc -w <<<"$hosts")
expect "tasks answering 10 requests" "$got" 2
code=$(curl -sS --max-time 5 -o "$TMP/body" -w '%{http_code}' "http://$ADDR:$PORT/health") || fail "curl /health failed"
expect "GET /health (no rule matches: the listener's default)" "$code $(cat "$TMP/body")" "404 no route"

step "update-service --desired-count 1: one target drains, then is gone"
ecs update-service --cluster "$CLUSTER" --service "$NAME" --desired-count 1 >/dev/null
draining=""
for i in $(seq 1 60); do
	draining=$(elbv2 describe-target-health --target-group-arn "$TG_ARN" \
		--query "TargetHealthDescriptions[?TargetHealth.State=='draining'].Target.Port | [0]" --output text)
	[[ "$draining" != None ]] && break
	sleep 0.5
done
[[ "$draining" == "$port1" || "$draining" == "$port2" ]] || fail "no draining target after scaling in (got '$draining')"
reason=$(elbv2 describe-target-health --target-group-arn "$TG_ARN" --targets "Id=$ec2id,Port=$draining" \
	--query 'TargetHealthDescriptions[0].TargetHealth.Reason' --output text)
expect "reason of the draining target" "$reason" Target.DeregistrationInProgress
elbv2 wait target-deregistered --target-group-arn "$TG_ARN" --targets "Id=$ec2id,Port=$draining" >/dev/null
got=$(elbv2 describe-target-health --target-group-arn "$TG_ARN" --query 'TargetHealthDescriptions[].[TargetHealth.State]' --output text)
expect "targets after the scale-in" "$got" healthy
for i in $(seq 1 5); do
	curl -sfS --max-time 5 -o /dev/null "http://$ADDR:$PORT/" || fail "GET / after the scale-in failed"
done
ok "GET / still answered"

step "describe-services shows the load balancer and the target events"
got=$(ecs describe-services --cluster "$CLUSTER" --services "$NAME" \
	--query 'services[0].[loadBalancers[0].targetGroupArn, loadBalancers[0].containerName, loadBalancers[0].containerPort, runningCount]' --output text | tr '\t' ' ')
expect "loadBalancers and running count" "$got" "$TG_ARN app 8080 1"
ecs describe-services --cluster "$CLUSTER" --services "$NAME" --query 'services[0].events[].message' --output text | tr '\t' '\n' >"$TMP/events"
grep -qF "registered 1 targets in (target-group $TG_ARN)" "$TMP/events" || fail "no registration event: $(cat "$TMP/events")"
grep -qF "has begun draining connections on 1 tasks." "$TMP/events" || fail "no draining event: $(cat "$TMP/events")"
grep -qF "deregistered 1 targets in (target-group $TG_ARN)" "$TMP/events" || fail "no deregistration event: $(cat "$TMP/events")"
ok "registered, draining and deregistered events"

step "bad input: ELB's and ECS's errors (CLI exit code 254)"
expect_error elbv2 ValidationError create-target-group --name "bad_name" --protocol HTTP --port 80 --vpc-id vpc-berth
expect_error elbv2 DuplicateListener create-listener --load-balancer-arn "$LB_ARN" --protocol HTTP --port "$PORT" \
	--default-actions "Type=forward,TargetGroupArn=$TG_ARN"
expect_error elbv2 ResourceInUse delete-target-group --target-group-arn "$TG_ARN"
expect_error elbv2 LoadBalancerNotFound describe-load-balancers --names "$NAME-missing"
IP_TG_ARN=$(elbv2 create-target-group --name "$NAME-ip" --protocol HTTP --port 8080 --vpc-id vpc-berth --target-type ip \
	--query 'TargetGroups[0].TargetGroupArn' --output text)
expect_error ecs InvalidParameterException create-service --cluster "$CLUSTER" --service-name "$NAME-ip" --task-definition "$NAME:$rev" \
	--desired-count 1 --load-balancers "targetGroupArn=$IP_TG_ARN,containerName=app,containerPort=8080"
elbv2 delete-target-group --target-group-arn "$IP_TG_ARN" >/dev/null
IP_TG_ARN=""

step "clean up: delete-service, delete-rule, delete-listener, delete-target-group, delete-load-balancer"
ecs delete-service --cluster "$CLUSTER" --service "$NAME" --force >/dev/null
ecs wait services-inactive --cluster "$CLUSTER" --services "$NAME" >/dev/null
ok "service inactive"
elbv2 delete-rule --rule-arn "$RULE_ARN" >/dev/null
RULE_ARN=""
elbv2 delete-listener --listener-arn "$LISTENER_ARN" >/dev/null
LISTENER_ARN=""
elbv2 delete-target-group --target-group-arn "$TG_ARN" >/dev/null
TG_ARN=""
elbv2 delete-load-balancer --load-balancer-arn "$LB_ARN" >/dev/null
elbv2 wait load-balancers-deleted --load-balancer-arns "$LB_ARN" >/dev/null
LB_ARN=""
ok "aws elbv2 wait load-balancers-deleted"
got=$(elbv2 describe-load-balancers --query "length(LoadBalancers[?LoadBalancerName=='$NAME'])" --output text)
expect "load balancers named $NAME" "$got" 0
got=$(elbv2 describe-target-groups --query "length(TargetGroups[?starts_with(TargetGroupName, '$NAME')])" --output text)
expect "target groups named $NAME*" "$got" 0
code=$(curl -sS --max-time 3 -o /dev/null -w '%{http_code}' "http://$ADDR:$PORT/" 2>/dev/null || true)
[[ "$code" != 200 ]] || fail "http://$ADDR:$PORT/ still answers 200 after the load balancer is deleted"
ok "nothing answers at $ADDR:$PORT"

echo "PASS"
