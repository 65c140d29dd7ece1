#!/usr/bin/env bash
# awscli-config.sh gives a task its configuration with the AWS CLI v2 (Debian
# package awscli, /usr/bin/aws): a Secrets Manager secret (a JSON
# SecretString), an SSM SecureString parameter and an IAM role trusted by
# ecs-tasks.amazonaws.com (and the account, so the CLI's root credentials may
# assume it); a task definition (the demo image in bridge mode on a dynamic
# host port) with `secrets` from both stores (a JSON key of the secret, the
# parameter by name), the role as task and execution role, and the awslogs
# log driver; run-task, the task's environment read from the demo app's
# GET / (both secret values are there), its log stream (describe-log-streams,
# get-log-events, filter-log-events, logs tail), put-secret-value and a new task that
# sees the new value, get-parameter --with-decryption, sts
# get-caller-identity as root and with the credentials of sts assume-role,
# errors for bad input, and the clean-up.
#
# The agent must run the demo image berth-demo:1 on Docker (what `berth dev`
# does when a Docker engine answers).
#
# Environment (required): BERTH_ENDPOINT (http://...), AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_REGION. Optional: BERTH_CLUSTER (default
# "default").
set -euo pipefail

# shellcheck source=lib/awscli.sh
. "$(dirname "$0")/lib/awscli.sh"
command -v curl >/dev/null || fail "curl is missing"
NAME="cli-config-$$"
SECRET="$NAME/db"
PARAM="/$NAME/api-key"
ROLE="$NAME-task"
GROUP="/berth/$NAME"
PREFIX=demo
rand() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
PASSWORD1="pw-$(rand)"
PASSWORD2="pw-$(rand)"
API_KEY="key-$(rand)"

# aws SERVICE ARGS with berth's endpoint; fails the script on an error.
call() {
	local rc=0
	"$AWS" --endpoint-url "$BERTH_ENDPOINT" --region "$AWS_REGION" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	((rc == 0)) || fail "aws $* exited with $rc: $(cat "$TMP/err")"
	cat "$TMP/out"
}
sm() { call secretsmanager "$@"; }
ssm() { call ssm "$@"; }
iam() { call iam "$@"; }
sts() { call sts "$@"; }
logs() { call logs "$@"; }

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

# run_task runs one task of the task definition, waits until it is RUNNING
# and sets TASK to its ARN.
run_task() {
	ecs run-task --cluster "$CLUSTER" --task-definition "$NAME:$REV" --output json >"$TMP/run.json"
	TASK=$(sed -n 's/^ *"taskArn": "\(arn:aws:ecs:[^"]*\)".*/\1/p' "$TMP/run.json" | head -n 1)
	[[ "$TASK" == arn:aws:ecs:* ]] || fail "run-task started no task: $(cat "$TMP/run.json")"
	TASKS="$TASKS $TASK"
	wait_status "$TASK" RUNNING
}

# wait_status TASK STATUS waits until the task's lastStatus is STATUS (it
# fails at once when the task stops first).
wait_status() {
	local got=""
	for i in $(seq 1 240); do
		got=$(ecs describe-tasks --cluster "$CLUSTER" --tasks "$1" --query 'tasks[0].lastStatus' --output text)
		[[ "$got" == "$2" ]] && return 0
		if [[ "$got" == STOPPED ]]; then
			fail "task $1 stopped: $(ecs describe-tasks --cluster "$CLUSTER" --tasks "$1" --query 'tasks[0].[stopCode, stoppedReason, containers[0].reason]' --output text)"
		fi
		sleep 0.5
	done
	fail "task $1 is $got after 120 s, want $2"
}

# task_env TASK fetches the demo app's GET / of the task (its host port) into
# $TMP/env.json.
task_env() {
	local port
	port=$(ecs describe-tasks --cluster "$CLUSTER" --tasks "$1" --query 'tasks[0].containers[0].networkBindings[0].hostPort' --output text)
	[[ "$port" =~ ^[0-9]+$ ]] || fail "task $1's host port: '$port'"
	for i in $(seq 1 40); do
		curl -sS --max-time 5 -o "$TMP/env.json" "http://127.0.0.1:$port/" 2>/dev/null && return 0
		sleep 0.5
	done
	fail "curl http://127.0.0.1:$port/ (task $1) failed for 20 s"
}

# env_of NAME prints the variable NAME of $TMP/env.json (the demo app's
# compact JSON; the values checked need no escaping).
env_of() {
	sed -n 's/.*"env":{[^}]*"'"$1"'":"\([^"]*\)".*/\1/p' "$TMP/env.json"
}

# Clean up whatever is left when the script fails half-way (every call may
# fail: the resource may not exist).
TASKS=""
cleanup() {
	local rc=$?
	if ((rc != 0)); then
		echo "--- cleaning up after a failure"
		q() { "$AWS" --endpoint-url "$BERTH_ENDPOINT" --region "$AWS_REGION" "$@" >/dev/null 2>&1 || true; }
		for t in $TASKS; do q ecs stop-task --cluster "$CLUSTER" --task "$t"; done
		q secretsmanager delete-secret --secret-id "$SECRET" --force-delete-without-recovery
		q ssm delete-parameter --name "$PARAM"
		q iam delete-role-policy --role-name "$ROLE" --policy-name read-config
		q iam delete-role --role-name "$ROLE"
		q logs delete-log-group --log-group-name "$GROUP"
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

step "sts get-caller-identity (root)"
ACCOUNT=$(sts get-caller-identity --query 'Account' --output text)
[[ "$ACCOUNT" =~ ^[0-9]{12}$ ]] || fail "account '$ACCOUNT'"
got=$(sts get-caller-identity --query 'Arn' --output text)
expect "caller" "$got" "arn:aws:iam::$ACCOUNT:root"

step "secretsmanager create-secret $SECRET (JSON SecretString)"
SECRET_ARN=$(sm create-secret --name "$SECRET" --description "database login" \
	--secret-string "{\"username\":\"app\",\"password\":\"$PASSWORD1\"}" --query 'ARN' --output text)
[[ "$SECRET_ARN" == "arn:aws:secretsmanager:$AWS_REGION:$ACCOUNT:secret:$SECRET-"?????? ]] || fail "secret ARN '$SECRET_ARN'"
ok "$SECRET_ARN"
got=$(sm get-secret-value --secret-id "$SECRET" --query 'SecretString' --output text)
expect "get-secret-value" "$got" "{\"username\":\"app\",\"password\":\"$PASSWORD1\"}"
got=$(sm describe-secret --secret-id "$SECRET_ARN" --query '[Name, Description]' --output text | tr '\t' ' ')
expect "describe-secret" "$got" "$SECRET database login"
expect_error secretsmanager ResourceExistsException create-secret --name "$SECRET" --secret-string x
expect_error secretsmanager ResourceNotFoundException get-secret-value --secret-id "$NAME/missing"

step "ssm put-parameter $PARAM --type SecureString"
got=$(ssm put-parameter --name "$PARAM" --type SecureString --value "$API_KEY" --query 'Version' --output text)
expect "parameter version" "$got" 1
got=$(ssm get-parameter --name "$PARAM" --query 'Parameter.[Type, Value == `'"\"$API_KEY\""'`]' --output text | tr '\t' ' ')
expect "get-parameter without decryption (type, value is the plain text)" "$got" "SecureString False"
got=$(ssm get-parameter --name "$PARAM" --with-decryption --query 'Parameter.Value' --output text)
expect "get-parameter --with-decryption" "$got" "$API_KEY"
expect_error ssm ParameterAlreadyExists put-parameter --name "$PARAM" --type SecureString --value other
expect_error ssm ParameterNotFound get-parameter --name "/$NAME/missing"

step "iam create-role $ROLE (trusted by ecs-tasks.amazonaws.com and the account)"
cat >"$TMP/trust.json" <<JSON
{"Version": "2012-10-17", "Statement": [
 {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"},
 {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::$ACCOUNT:root"}, "Action": "sts:AssumeRole"}]}
JSON
ROLE_ARN=$(iam create-role --role-name "$ROLE" --assume-role-policy-document "file://$TMP/trust.json" --query 'Role.Arn' --output text)
expect "role ARN" "$ROLE_ARN" "arn:aws:iam::$ACCOUNT:role/$ROLE"
cat >"$TMP/policy.json" <<JSON
{"Version": "2012-10-17", "Statement": [
 {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "ssm:GetParameters"], "Resource": ["$SECRET_ARN", "arn:aws:ssm:$AWS_REGION:$ACCOUNT:parameter$PARAM"]}]}
JSON
iam put-role-policy --role-name "$ROLE" --policy-name read-config --policy-document "file://$TMP/policy.json" >/dev/null
got=$(iam list-role-policies --role-name "$ROLE" --query 'PolicyNames' --output text)
expect "role policies" "$got" read-config
expect_error iam EntityAlreadyExists create-role --role-name "$ROLE" --assume-role-policy-document "file://$TMP/trust.json"
expect_error iam NoSuchEntity get-role --role-name "$NAME-missing"
expect_error iam MalformedPolicyDocument create-role --role-name "$NAME-bad" --assume-role-policy-document '{"Statement": "nope"}'

step "register the task definition (secrets from both stores, the role, awslogs)"
cat >"$TMP/td.json" <<JSON
{"family": "$NAME", "networkMode": "bridge", "taskRoleArn": "$ROLE_ARN", "executionRoleArn": "$ROLE_ARN",
 "containerDefinitions": [{"name": "app", "image": "berth-demo:1", "memory": 64, "cpu": 64, "essential": true,
  "portMappings": [{"containerPort": 8080, "hostPort": 0}],
  "environment": [{"name": "MODE", "value": "demo"}],
  "secrets": [{"name": "DB_PASSWORD", "valueFrom": "$SECRET_ARN:password::"},
              {"name": "API_KEY", "valueFrom": "$PARAM"}],
  "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "$GROUP", "awslogs-create-group": "true",
   "awslogs-stream-prefix": "$PREFIX", "awslogs-region": "$AWS_REGION"}}}]}
JSON
REV=$(ecs register-task-definition --cli-input-json "file://$TMP/td.json" --query 'taskDefinition.revision' --output text)
ok "$NAME:$REV"
got=$(ecs describe-task-definition --task-definition "$NAME:$REV" \
	--query 'taskDefinition.[taskRoleArn, executionRoleArn, containerDefinitions[0].secrets[].name | join(`,`, @), containerDefinitions[0].logConfiguration.logDriver]' \
	--output text | tr '\t' ' ')
expect "task definition" "$got" "$ROLE_ARN $ROLE_ARN DB_PASSWORD,API_KEY awslogs"

step "run-task, wait RUNNING, the secrets in the task's environment"
run_task
TASK1="$TASK"
TASK1_ID="${TASK1##*/}"
ok "task $TASK1_ID RUNNING"
task_env "$TASK1"
expect "DB_PASSWORD (the secret's password key)" "$(env_of DB_PASSWORD)" "$PASSWORD1"
expect "API_KEY (the SecureString, decrypted)" "$(env_of API_KEY)" "$API_KEY"
expect "MODE (environment)" "$(env_of MODE)" demo

step "the task's log stream $PREFIX/app/$TASK1_ID"
STREAM="$PREFIX/app/$TASK1_ID"
got=""
for i in $(seq 1 60); do # the agent ships a batch every second
	got=$(logs get-log-events --log-group-name "$GROUP" --log-stream-name "$STREAM" --start-from-head \
		--query 'events[?starts_with(message, `listening on `)] | length(@)' --output text 2>/dev/null) || got=""
	[[ "$got" == 1 ]] && break
	sleep 0.5
done
expect "get-log-events: the demo app's 'listening on' line" "$got" 1
got=$(logs describe-log-groups --log-group-name-prefix "$GROUP" --query 'logGroups[].logGroupName' --output text)
expect "describe-log-groups" "$got" "$GROUP"
got=$(logs describe-log-streams --log-group-name "$GROUP" --log-stream-name-prefix "$PREFIX/" --query 'logStreams[].logStreamName' --output text)
expect "describe-log-streams" "$got" "$STREAM"
got=$(logs filter-log-events --log-group-name "$GROUP" --filter-pattern '"listening on"' \
	--query 'events[].[logStreamName, message]' --output text | tr '\t' ' ')
expect "filter-log-events \"listening on\"" "$got" "$STREAM listening on [::]:8080"
got=$(logs tail "$GROUP" --since 1h --format short | grep -c 'listening on \[::\]:8080' || true)
expect "logs tail (FilterLogEvents, interleaved by time): the 'listening on' line" "$got" 1
got=$(logs filter-log-events --log-group-name "$GROUP" --filter-pattern "$PASSWORD1" --query 'length(events)' --output text)
expect "filter-log-events for the password (never logged)" "$got" 0
expect_error logs ResourceNotFoundException get-log-events --log-group-name "$GROUP" --log-stream-name "$PREFIX/app/missing"
expect_error logs ResourceNotFoundException describe-log-streams --log-group-name "$GROUP-missing"

step "put-secret-value (rotation): a new task sees the new password"
sm put-secret-value --secret-id "$SECRET" --secret-string "{\"username\":\"app\",\"password\":\"$PASSWORD2\"}" >/dev/null
got=$(sm get-secret-value --secret-id "$SECRET" --query 'SecretString' --output text)
expect "AWSCURRENT" "$got" "{\"username\":\"app\",\"password\":\"$PASSWORD2\"}"
got=$(sm get-secret-value --secret-id "$SECRET" --version-stage AWSPREVIOUS --query 'SecretString' --output text)
expect "AWSPREVIOUS" "$got" "{\"username\":\"app\",\"password\":\"$PASSWORD1\"}"
run_task
TASK2="$TASK"
ok "task ${TASK2##*/} RUNNING"
task_env "$TASK2"
expect "new task's DB_PASSWORD" "$(env_of DB_PASSWORD)" "$PASSWORD2"
expect "new task's API_KEY" "$(env_of API_KEY)" "$API_KEY"
task_env "$TASK1"
expect "old task's DB_PASSWORD (read as it started)" "$(env_of DB_PASSWORD)" "$PASSWORD1"

step "sts assume-role $ROLE, get-caller-identity with its credentials"
read -r KEY SECRET_KEY TOKEN < <(sts assume-role --role-arn "$ROLE_ARN" --role-session-name cli-config \
	--query 'Credentials.[AccessKeyId, SecretAccessKey, SessionToken]' --output text)
[[ "$KEY" == ASIA* && -n "$SECRET_KEY" && -n "$TOKEN" ]] || fail "assume-role credentials: key '$KEY'"
ok "temporary key $KEY"
got=$(AWS_ACCESS_KEY_ID="$KEY" AWS_SECRET_ACCESS_KEY="$SECRET_KEY" AWS_SESSION_TOKEN="$TOKEN" \
	sts get-caller-identity --query 'Arn' --output text)
expect "caller with the role's credentials" "$got" "arn:aws:sts::$ACCOUNT:assumed-role/$ROLE/cli-config"
got=$(AWS_ACCESS_KEY_ID="$KEY" AWS_SECRET_ACCESS_KEY="$SECRET_KEY" AWS_SESSION_TOKEN="wrong" \
	"$AWS" --endpoint-url "$BERTH_ENDPOINT" --region "$AWS_REGION" sts get-caller-identity 2>&1 >/dev/null || true)
[[ "$got" == *"(InvalidClientTokenId)"* ]] || fail "get-caller-identity with a wrong session token: $got"
ok "InvalidClientTokenId with a wrong session token"
expect_error sts ValidationError assume-role --role-arn "$ROLE_ARN" --role-session-name "bad session"
expect_error sts AccessDenied assume-role --role-arn "arn:aws:iam::$ACCOUNT:role/$NAME-missing" --role-session-name cli-config

step "clean-up"
for t in $TASKS; do ecs stop-task --cluster "$CLUSTER" --task "$t" --reason done >/dev/null; done
for t in $TASKS; do wait_status "$t" STOPPED; done
# shellcheck disable=SC2086
got=$(ecs describe-tasks --cluster "$CLUSTER" --tasks $TASKS --query 'tasks[].lastStatus' --output text | tr '\t' ' ')
expect "tasks" "$got" "STOPPED STOPPED"
got=$(sm delete-secret --secret-id "$SECRET" --force-delete-without-recovery --query 'Name' --output text)
expect "deleted secret" "$got" "$SECRET"
expect_error secretsmanager ResourceNotFoundException describe-secret --secret-id "$SECRET"
ssm delete-parameter --name "$PARAM" >/dev/null
expect_error ssm ParameterNotFound get-parameter --name "$PARAM"
expect_error iam DeleteConflict delete-role --role-name "$ROLE"
iam delete-role-policy --role-name "$ROLE" --policy-name read-config >/dev/null
iam delete-role --role-name "$ROLE" >/dev/null
expect_error iam NoSuchEntity get-role --role-name "$ROLE"
logs delete-log-group --log-group-name "$GROUP" >/dev/null
expect_error logs ResourceNotFoundException describe-log-streams --log-group-name "$GROUP"
echo "PASS"
