#!/usr/bin/env bash
# awscli-discovery.sh registers an ECS service's tasks in Cloud Map with the
# AWS CLI v2 (Debian package awscli, /usr/bin/aws): create-private-dns-namespace
# and get-operation until SUCCESS, get-namespace, create-service (SRV records,
# custom health), register-task-definition (the demo image in bridge mode on
# a dynamic host port), ecs create-service --service-registries, the tasks'
# instances (list-instances, discover-instances with --query-parameters and
# --health-status, get-instances-health-status), ecs
# list-services-by-namespace, berth's DNS answers (dig, when BERTH_DNS is
# set), a scale-in to 0 that deregisters the instances, and the clean-up
# (ResourceInUse for a Cloud Map service with instances, then
# delete-service and delete-namespace).
#
# DiscoverInstances goes to "data-" + the endpoint's host (the CLI always
# adds that prefix, and 2.9's CLI has no setting to turn it off), so the
# script sends it through berth's endpoint as an HTTP proxy: berth routes by
# X-Amz-Target, whatever the Host header names, and the name never needs to
# resolve.
#
# The agent must run the demo image berth-demo:1 on Docker (what `berth dev`
# does when a Docker engine answers).
#
# Environment (required): BERTH_ENDPOINT (http://...), AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_REGION. Optional: BERTH_CLUSTER (default
# "default"), BERTH_DNS (berth's DNS server, HOST:PORT, the `dns` line of
# berth dev's banner; dig queries it when set).
set -euo pipefail

# shellcheck source=lib/awscli.sh
. "$(dirname "$0")/lib/awscli.sh"
[[ "$BERTH_ENDPOINT" == http://* ]] || fail "BERTH_ENDPOINT must be an http:// endpoint (DiscoverInstances goes through it as a proxy)"
if [[ -n "${BERTH_DNS:-}" ]]; then
	command -v dig >/dev/null || fail "BERTH_DNS is set but dig is missing: install the Debian package bind9-dnsutils"
fi
NAME="cli-sd-$$"
NS="$NAME.internal"
SVC=api
PORT_OF_ENDPOINT="${BERTH_ENDPOINT##*:}"
PORT_OF_ENDPOINT="${PORT_OF_ENDPOINT%%/*}"

sd() { # aws servicediscovery with berth's endpoint; fails the script on an error
	local rc=0
	"$AWS" --endpoint-url "$BERTH_ENDPOINT" --region "$AWS_REGION" servicediscovery "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	((rc == 0)) || fail "aws servicediscovery $* exited with $rc: $(cat "$TMP/err")"
	cat "$TMP/out"
}

# discover runs aws servicediscovery discover-instances through berth's
# endpoint as the HTTP proxy, at a name that need not resolve (the CLI
# sends the call to data-berth.localhost).
discover() {
	local rc=0
	HTTP_PROXY="$BERTH_ENDPOINT" http_proxy="$BERTH_ENDPOINT" NO_PROXY="" no_proxy="" \
		"$AWS" --endpoint-url "http://berth.localhost:$PORT_OF_ENDPOINT" --region "$AWS_REGION" \
		servicediscovery discover-instances "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	((rc == 0)) || fail "aws servicediscovery discover-instances $* exited with $rc: $(cat "$TMP/err")"
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
	ok "$want: $(tr -d '\n' <"$TMP/err" | sed -E 's/.*operation( \(reached max retries: [0-9]+\))?: //')"
}

# wait_operation ID waits until the Cloud Map operation ID is SUCCESS.
wait_operation() {
	local status=""
	for i in $(seq 1 60); do
		status=$(sd get-operation --operation-id "$1" --query 'Operation.Status' --output text)
		[[ "$status" == SUCCESS ]] && return 0
		[[ "$status" == FAIL ]] && fail "operation $1 failed: $(sd get-operation --operation-id "$1" --output json)"
		sleep 0.5
	done
	fail "operation $1 is $status after 30 s"
}

# wait_instances N waits until the Cloud Map service lists N instances.
wait_instances() {
	local got=""
	for i in $(seq 1 120); do
		got=$(sd list-instances --service-id "$SD_ID" --query 'length(Instances)' --output text)
		[[ "$got" == "$1" ]] && return 0
		sleep 0.5
	done
	fail "service $SVC lists $got instances after 60 s, want $1"
}

# Clean up whatever is left when the script fails half-way (every call may
# fail: the resource may not exist).
NS_ID="" SD_ID=""
cleanup() {
	local rc=$?
	if ((rc != 0)); then
		echo "--- cleaning up after a failure"
		q() { "$AWS" --endpoint-url "$BERTH_ENDPOINT" --region "$AWS_REGION" "$@" >/dev/null 2>&1 || true; }
		q ecs delete-service --cluster "$CLUSTER" --service "$NAME" --force
		if [[ -n "$SD_ID" ]]; then
			for id in $("$AWS" --endpoint-url "$BERTH_ENDPOINT" --region "$AWS_REGION" servicediscovery list-instances \
				--service-id "$SD_ID" --query 'Instances[].Id' --output text 2>/dev/null || true); do
				q servicediscovery deregister-instance --service-id "$SD_ID" --instance-id "$id"
			done
			q servicediscovery delete-service --id "$SD_ID"
		fi
		[[ -z "$NS_ID" ]] || q servicediscovery delete-namespace --id "$NS_ID"
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
[[ "$runtime" == docker ]] || fail "the container instance's runtime is '$runtime': run berth dev where a Docker engine answers (the demo image berth-demo:1 needs Docker)"
ok "runtime docker"

step "create-private-dns-namespace $NS, get-operation until SUCCESS"
op=$(sd create-private-dns-namespace --name "$NS" --vpc vpc-berth --creator-request-id "$NAME" --query 'OperationId' --output text)
wait_operation "$op"
got=$(sd get-operation --operation-id "$op" --query 'Operation.Type' --output text)
expect "operation type" "$got" CREATE_NAMESPACE
NS_ID=$(sd get-operation --operation-id "$op" --query 'Operation.Targets.NAMESPACE' --output text)
[[ "$NS_ID" == ns-* ]] || fail "the operation's NAMESPACE target: '$NS_ID'"
ok "namespace $NS_ID"
got=$(sd get-namespace --id "$NS_ID" --query 'Namespace.[Name, Type, Properties.HttpProperties.HttpName]' --output text | tr '\t' ' ')
expect "get-namespace" "$got" "$NS DNS_PRIVATE $NS"
got=$(sd list-namespaces --filters "Name=NAME,Values=$NS,Condition=EQ" --query 'Namespaces[].Id' --output text)
expect "list-namespaces by name" "$got" "$NS_ID"

step "create-service $SVC (SRV records, custom health)"
SD_ARN=$(sd create-service --name "$SVC" --namespace-id "$NS_ID" \
	--dns-config 'RoutingPolicy=MULTIVALUE,DnsRecords=[{Type=SRV,TTL=10}]' \
	--health-check-custom-config FailureThreshold=1 --query 'Service.Arn' --output text)
SD_ID="${SD_ARN##*/}"
got=$(sd get-service --id "$SD_ID" --query 'Service.[Name, NamespaceId, DnsConfig.RoutingPolicy, DnsConfig.DnsRecords[0].Type, DnsConfig.DnsRecords[0].TTL]' --output text | tr '\t' ' ')
expect "get-service" "$got" "$SVC $NS_ID MULTIVALUE SRV 10"
expect_error servicediscovery ResourceInUse delete-namespace --id "$NS_ID"

step "register the demo task definition (bridge, dynamic host port)"
cat >"$TMP/td.json" <<JSON
{"family": "$NAME", "networkMode": "bridge", "containerDefinitions": [{"name": "app", "image": "berth-demo:1",
 "memory": 64, "cpu": 64, "essential": true, "portMappings": [{"containerPort": 8080, "hostPort": 0}]}]}
JSON
rev=$(ecs register-task-definition --cli-input-json "file://$TMP/td.json" --query 'taskDefinition.revision' --output text)
ok "$NAME:$rev"

step "create-service --service-registries (2 tasks)"
got=$(ecs create-service --cluster "$CLUSTER" --service-name "$NAME" --task-definition "$NAME:$rev" --desired-count 2 \
	--service-registries "registryArn=$SD_ARN,containerName=app,containerPort=8080" \
	--query 'service.[status, desiredCount, serviceRegistries[0].registryArn, serviceRegistries[0].containerName, serviceRegistries[0].containerPort]' \
	--output text | tr '\t' ' ')
expect "created service" "$got" "ACTIVE 2 $SD_ARN app 8080"

step "list-instances shows the two tasks"
wait_instances 2
tasks=$(ecs list-tasks --cluster "$CLUSTER" --service-name "$NAME" --desired-status RUNNING --query 'taskArns' --output text)
task_ids=$(for a in $tasks; do echo "${a##*/}"; done | sort | tr '\n' ' ')
got=$(sd list-instances --service-id "$SD_ID" --query 'Instances[].Id' --output text | tr '\t' '\n' | sort | tr '\n' ' ')
expect "instance IDs (the task IDs)" "$got" "$task_ids"
# shellcheck disable=SC2086
ports=$(ecs describe-tasks --cluster "$CLUSTER" --tasks $tasks --query 'tasks[].containers[0].networkBindings[0].hostPort' --output text | tr '\t' '\n' | sort -n | tr '\n' ' ')
got=$(sd list-instances --service-id "$SD_ID" --query 'Instances[].Attributes.AWS_INSTANCE_PORT' --output text | tr '\t' '\n' | sort -n | tr '\n' ' ')
expect "AWS_INSTANCE_PORT (the host ports)" "$got" "$ports"
got=$(sd list-instances --service-id "$SD_ID" --query 'Instances[0].Attributes.[ECS_CLUSTER_NAME, ECS_SERVICE_NAME, ECS_TASK_DEFINITION_FAMILY]' --output text | tr '\t' ' ')
expect "ECS attributes" "$got" "$CLUSTER $NAME $NAME"

step "get-instances-health-status: HEALTHY once the tasks run"
got=""
for i in $(seq 1 60); do
	got=$(sd get-instances-health-status --service-id "$SD_ID" --query 'Status.* | sort(@)' --output text | tr '\t' ' ')
	[[ "$got" == "HEALTHY HEALTHY" ]] && break
	sleep 0.5
done
expect "health statuses" "$got" "HEALTHY HEALTHY"

step "discover-instances (through berth's endpoint as the proxy for data-berth.localhost)"
got=$(discover --namespace-name "$NS" --service-name "$SVC" --health-status HEALTHY \
	--query 'Instances[].InstanceId' --output text | tr '\t' '\n' | sort | tr '\n' ' ')
expect "healthy instances" "$got" "$task_ids"
got=$(discover --namespace-name "$NS" --service-name "$SVC" --query-parameters "ECS_SERVICE_NAME=$NAME" \
	--query 'Instances[].Attributes.AWS_INSTANCE_PORT' --output text | tr '\t' '\n' | sort -n | tr '\n' ' ')
expect "ports of the instances of ECS service $NAME" "$got" "$ports"
got=$(discover --namespace-name "$NS" --service-name "$SVC" --query-parameters "ECS_SERVICE_NAME=$NAME-other" \
	--query 'length(Instances)' --output text)
expect "instances of another ECS service" "$got" 0
got=$(discover --namespace-name "$NS" --service-name "$SVC" --health-status UNHEALTHY --query 'length(Instances)' --output text)
expect "unhealthy instances" "$got" 0

step "ecs list-services-by-namespace"
NS_ARN=$(sd get-namespace --id "$NS_ID" --query 'Namespace.Arn' --output text)
got=$(ecs list-services-by-namespace --namespace "$NS_ARN" --query 'serviceArns' --output text)
[[ "$got" == *":service/$CLUSTER/$NAME" ]] || fail "list-services-by-namespace $NS_ARN: '$got'"
ok "$got"
got=$(ecs list-services-by-namespace --namespace "$NS" --query 'length(serviceArns)' --output text)
expect "services in namespace $NS (by name)" "$got" 1

if [[ -n "${BERTH_DNS:-}" ]]; then
	step "berth's DNS at $BERTH_DNS answers $SVC.$NS"
	dig_() { dig @"${BERTH_DNS%:*}" -p "${BERTH_DNS##*:}" +time=2 +tries=1 "$@"; }
	got=$(dig_ +short SRV "$SVC.$NS" | awk '{print $3}' | sort -n | tr '\n' ' ')
	expect "SRV ports" "$got" "$ports"
	target=$(dig_ +short SRV "$SVC.$NS" | awk 'NR==1 {print $4}')
	[[ "$target" == *".$SVC.$NS." ]] || fail "SRV target '$target'"
	addr=$(dig_ +short A "$target")
	[[ "$addr" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "A $target: '$addr'"
	ok "$target A $addr"
	got=$(dig_ SRV "$SVC.$NS" | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
	expect "rcode" "$got" NOERROR
	got=$(dig_ A "nothing.$NS" | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
	expect "rcode of a missing name" "$got" NXDOMAIN
else
	step "BERTH_DNS is not set: berth's DNS answers are not checked"
fi

step "a Cloud Map service with instances cannot go"
expect_error servicediscovery ResourceInUse delete-service --id "$SD_ID"

step "update-service --desired-count 0: the instances are deregistered"
ecs update-service --cluster "$CLUSTER" --service "$NAME" --desired-count 0 >/dev/null
wait_instances 0
got=$(discover --namespace-name "$NS" --service-name "$SVC" --query 'length(Instances)' --output text)
expect "discovered instances" "$got" 0
if [[ -n "${BERTH_DNS:-}" ]]; then
	got=$(dig @"${BERTH_DNS%:*}" -p "${BERTH_DNS##*:}" +time=2 +tries=1 +short SRV "$SVC.$NS" | wc -l)
	expect "SRV records" "$got" 0
fi
ecs describe-services --cluster "$CLUSTER" --services "$NAME" --query 'services[0].events[].message' --output text | tr '\t' '\n' >"$TMP/events"
grep -qF "registered 1 instances in (service-registry $SD_ARN)" "$TMP/events" || fail "no registration event: $(cat "$TMP/events")"
grep -qF "deregistered 1 instances in (service-registry $SD_ARN)" "$TMP/events" || fail "no deregistration event: $(cat "$TMP/events")"
ok "registered and deregistered events"

step "clean up: delete the ECS service, the Cloud Map service and the namespace"
ecs delete-service --cluster "$CLUSTER" --service "$NAME" --force >/dev/null
got=""
for i in $(seq 1 60); do # the CLI's services-inactive waiter polls every 15 s
	got=$(ecs describe-services --cluster "$CLUSTER" --services "$NAME" --query 'services[0].status' --output text)
	[[ "$got" == INACTIVE ]] && break
	sleep 0.5
done
expect "ECS service status" "$got" INACTIVE
sd delete-service --id "$SD_ID" >/dev/null
expect_error servicediscovery ServiceNotFound get-service --id "$SD_ID"
SD_ID=""
op=$(sd delete-namespace --id "$NS_ID" --query 'OperationId' --output text)
wait_operation "$op"
got=$(sd get-operation --operation-id "$op" --query 'Operation.[Type, Targets.NAMESPACE]' --output text | tr '\t' ' ')
expect "operation" "$got" "DELETE_NAMESPACE $NS_ID"
expect_error servicediscovery NamespaceNotFound get-namespace --id "$NS_ID"
NS_ID=""

echo "PASS"
