#!/usr/bin/env bash
# awscli-e2e.sh drives a running berth with the AWS CLI v2 (Debian package
# awscli, installed at /usr/bin/aws) and checks every answer.
#
# Environment (all required):
#   BERTH_ENDPOINT          berth's endpoint URL, e.g. http://127.0.0.1:4566
#   AWS_ACCESS_KEY_ID       berth root credentials
#   AWS_SECRET_ACCESS_KEY
#   AWS_REGION              the server's region (berth's default: us-east-1)
#
# The CLI ignores AWS_ENDPOINT_URL, so every call passes --endpoint-url.
# Names carry a per-run prefix (BERTH_E2E_PREFIX, default awscli-<pid>) so
# the script can run against a server that already holds data. It prints one
# line per step and exits non-zero with a message on the first mismatch.
set -euo pipefail

TESTDATA="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/testdata"
# shellcheck source=lib/awscli.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/awscli.sh"
P="${BERTH_E2E_PREFIX:-awscli-$$}"

# flat joins text output (tabs and lines) into one space-separated line.
flat() { tr '\t\n' '  ' | sed -e 's/  */ /g' -e 's/^ //' -e 's/ $//'; }

# words prints one word of text output per line, without the "None" the CLI
# prints for a page's missing NextToken.
words() { tr '\t' '\n' | grep -v -x -e '' -e None || true; }


# expect_error EXCEPTION ARGS... runs aws ecs ARGS, which must fail with the
# CLI's exit code for a service error (254) and name EXCEPTION on stderr.
expect_error() {
	local want="$1" rc=0
	shift
	"$AWS" --endpoint-url "$BERTH_ENDPOINT" --region "$AWS_REGION" ecs "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	if ((rc != 254)); then
		fail "aws ecs $*: exit code $rc, want 254; stderr: $(cat "$TMP/err")"
	fi
	if ! grep -q "($want)" "$TMP/err"; then
		fail "aws ecs $*: stderr does not name $want: $(cat "$TMP/err")"
	fi
	ok "$1 -> exit 254, $want"
}

echo "berth AWS CLI test against $BERTH_ENDPOINT (prefix $P, $("$AWS" --version 2>&1))"

# ---------------------------------------------------------------- clusters
step "create-cluster with tags"
got=$(ecs create-cluster --cluster-name "$P-main" --tags key=env,value=e2e key=owner,value=awscli \
	--query 'cluster.[clusterName,status,length(tags)]' --output text | flat)
expect "create-cluster name, status, tag count" "$got" "$P-main ACTIVE 2"
cluster_arn=$(ecs describe-clusters --clusters "$P-main" --query 'clusters[0].clusterArn' --output text)
[[ "$cluster_arn" == arn:aws*:ecs:"$AWS_REGION":*:cluster/"$P-main" ]] || fail "cluster ARN $cluster_arn"
ok "cluster ARN $cluster_arn"

step "describe-clusters --include TAGS"
got=$(ecs describe-clusters --clusters "$P-main" --include TAGS \
	--query 'clusters[0].[clusterName,status,sort_by(tags,&key)[].[key,value]]' --output text | flat)
expect "describe-clusters with tags" "$got" "$P-main ACTIVE env e2e owner awscli"
got=$(ecs describe-clusters --clusters "$P-main" --query 'length(clusters[0].tags || `[]`)' --output text)
expect "describe-clusters without TAGS leaves tags out" "$got" "0"
got=$(ecs describe-clusters --clusters "$P-main" "$P-missing" \
	--query '[length(clusters), failures[0].reason, failures[0].arn]' --output text | flat)
expect "describe-clusters of a missing cluster is a failure, not an error" "$got" \
	"1 MISSING ${cluster_arn%/*}/$P-missing"

step "list-clusters pagination (--page-size, --max-items, --starting-token)"
before=$(ecs list-clusters --query 'length(clusterArns)' --output json)
for i in 1 2 3 4 5 6 7; do
	ecs create-cluster --cluster-name "$P-page-$i" --query cluster.status --output text >/dev/null
done
total=$((before + 7))
ok "created 7 more clusters; $total in all"
# With --output text the CLI applies --query to each page: one line per page.
pages=$(ecs list-clusters --page-size 2 --query 'length(clusterArns)' --output text)
npages=$(echo "$pages" | grep -c .)
sum=0
while read -r n; do
	((n <= 2)) || fail "list-clusters --page-size 2 returned a page of $n clusters"
	sum=$((sum + n))
done <<<"$pages"
expect "list-clusters --page-size 2: pages" "$npages" "$(((total + 1) / 2))"
expect "list-clusters --page-size 2: clusters over all pages" "$sum" "$total"
got=$(ecs list-clusters --page-size 2 --query 'length(clusterArns)' --output json)
expect "list-clusters --page-size 2: merged total" "$got" "$total"
all=$(ecs list-clusters --page-size 2 --query 'clusterArns[]' --output text | words)
expect "list-clusters: no duplicates" "$(echo "$all" | sort -u | grep -c .)" "$total"
expect "list-clusters: all of this run's clusters" "$(echo "$all" | grep -c -e "/$P-main\$" -e "/$P-page-")" "8"
got=$(ecs list-clusters --page-size 2 --max-items 3 --query 'length(clusterArns)' --output json)
expect "list-clusters --max-items 3" "$got" "3"
token=$(ecs list-clusters --page-size 2 --max-items 3 --query 'NextToken' --output json | tr -d '"')
[[ -n "$token" && "$token" != null ]] || fail "list-clusters --max-items 3 returned no NextToken"
first=$(ecs list-clusters --page-size 2 --max-items 3 --query 'clusterArns[]' --output text | words)
rest=$(ecs list-clusters --page-size 2 --starting-token "$token" --query 'clusterArns[]' --output text | words)
expect "list-clusters --max-items 3 then --starting-token: same list" "$(printf '%s\n%s\n' "$first" "$rest" | grep .)" "$all"

# ---------------------------------------------------------------- task definitions
step "register-task-definition --cli-input-json"
got=$(ecs register-task-definition --cli-input-json "file://$TESTDATA/taskdef-web.json" --family "$P-web" \
	--query '[taskDefinition.family, taskDefinition.revision, taskDefinition.status, taskDefinition.networkMode,
		taskDefinition.cpu, taskDefinition.memory, taskDefinition.containerDefinitions[0].name,
		taskDefinition.containerDefinitions[0].image, taskDefinition.containerDefinitions[0].portMappings[0].containerPort,
		taskDefinition.volumes[0].name, length(tags)]' --output text | flat)
expect "register web:1" "$got" "$P-web 1 ACTIVE bridge 256 512 web nginx:1.25 80 cache 2"
got=$(ecs register-task-definition --cli-input-json "file://$TESTDATA/taskdef-web.json" --family "$P-web" \
	--query 'taskDefinition.revision' --output text)
expect "register web again: revision 2" "$got" "2"

step "register-task-definition --family --container-definitions"
got=$(ecs register-task-definition --family "$P-worker" --container-definitions "file://$TESTDATA/containers-worker.json" \
	--requires-compatibilities EC2 --tags key=app,value=worker \
	--query "[taskDefinition.family, taskDefinition.revision, join(',', taskDefinition.containerDefinitions[].name),
		taskDefinition.containerDefinitions[1].dependsOn[0].condition, taskDefinition.containerDefinitions[1].memory,
		tags[0].value]" --output text | flat)
expect "register worker:1" "$got" "$P-worker 1 init,worker SUCCESS 64 worker"
worker_arn=$(ecs describe-task-definition --task-definition "$P-worker:1" --query taskDefinition.taskDefinitionArn --output text)
[[ "$worker_arn" == arn:aws*:ecs:"$AWS_REGION":*:task-definition/"$P-worker:1" ]] || fail "task definition ARN $worker_arn"
ok "task definition ARN $worker_arn"

step "describe-task-definition"
got=$(ecs describe-task-definition --task-definition "$P-web" --query 'taskDefinition.[family,revision,status]' --output text | flat)
expect "describe family: latest ACTIVE revision" "$got" "$P-web 2 ACTIVE"
got=$(ecs describe-task-definition --task-definition "$P-web:1" \
	--query "taskDefinition.[revision, containerDefinitions[0].environment[?name=='MODE'].value | [0],
		containerDefinitions[0].healthCheck.retries, containerDefinitions[0].command[2]]" --output text | flat)
expect "describe family:revision" "$got" "1 production 3 daemon off;"
got=$(ecs describe-task-definition --task-definition "$worker_arn" --include TAGS \
	--query '[taskDefinition.revision, tags[0].key, tags[0].value]' --output text | flat)
expect "describe by ARN with --include TAGS" "$got" "1 app worker"

step "list-task-definitions (--family-prefix, --sort DESC) and list-task-definition-families"
tdname() { words | sed 's|.*:task-definition/||'; }
got=$(ecs list-task-definitions --family-prefix "$P-" --query 'taskDefinitionArns[]' --output text | tdname | flat)
expect "list-task-definitions --family-prefix" "$got" "$P-web:1 $P-web:2 $P-worker:1"
got=$(ecs list-task-definitions --family-prefix "$P-" --sort DESC --query 'taskDefinitionArns[]' --output text | tdname | flat)
expect "list-task-definitions --sort DESC" "$got" "$P-worker:1 $P-web:2 $P-web:1"
got=$(ecs list-task-definitions --family-prefix "$P-" --page-size 1 --query 'taskDefinitionArns[]' --output text | tdname | flat)
expect "list-task-definitions --page-size 1" "$got" "$P-web:1 $P-web:2 $P-worker:1"
got=$(ecs list-task-definitions --family-prefix "$P-web" --query 'taskDefinitionArns[]' --output text | tdname | flat)
expect "list-task-definitions --family-prefix of one family" "$got" "$P-web:1 $P-web:2"
got=$(ecs list-task-definition-families --family-prefix "$P-" --query 'families[]' --output text | words | flat)
expect "list-task-definition-families --family-prefix" "$got" "$P-web $P-worker"

step "deregister-task-definition"
got=$(ecs deregister-task-definition --task-definition "$P-web:1" --query 'taskDefinition.[revision,status]' --output text | flat)
expect "deregister web:1" "$got" "1 INACTIVE"
got=$(ecs list-task-definitions --family-prefix "$P-web" --query 'taskDefinitionArns[]' --output text | tdname | flat)
expect "ACTIVE list after deregister" "$got" "$P-web:2"
got=$(ecs list-task-definitions --family-prefix "$P-web" --status INACTIVE --query 'taskDefinitionArns[]' --output text | tdname | flat)
expect "INACTIVE list after deregister" "$got" "$P-web:1"
got=$(ecs describe-task-definition --task-definition "$P-web:1" --query 'taskDefinition.status' --output text)
expect "describe a deregistered revision" "$got" "INACTIVE"

# ---------------------------------------------------------------- tags
step "tag-resource / untag-resource / list-tags-for-resource"
got=$(ecs tag-resource --resource-arn "$cluster_arn" --tags key=cost-center,value=42 key=env,value=staging --output text)
expect "tag-resource on a cluster answers nothing" "$got" ""
got=$(ecs list-tags-for-resource --resource-arn "$cluster_arn" --query 'sort_by(tags,&key)[].[key,value]' --output text | flat)
expect "cluster tags after tag-resource (env overwritten)" "$got" "cost-center 42 env staging owner awscli"
ecs untag-resource --resource-arn "$cluster_arn" --tag-keys owner --output text >/dev/null
got=$(ecs list-tags-for-resource --resource-arn "$cluster_arn" --query 'sort_by(tags,&key)[].key' --output text | flat)
expect "cluster tags after untag-resource" "$got" "cost-center env"
web2_arn="${worker_arn%/*}/$P-web:2"
ecs tag-resource --resource-arn "$web2_arn" --tags key=release,value=r7 --output text >/dev/null
got=$(ecs list-tags-for-resource --resource-arn "$web2_arn" --query 'sort_by(tags,&key)[].[key,value]' --output text | flat)
expect "task definition tags after tag-resource" "$got" "app web release r7 tier frontend"

# ---------------------------------------------------------------- account settings
step "put-account-setting-default / list-account-settings"
old=$(ecs list-account-settings --effective-settings --name containerInsights --query 'settings[0].value' --output text)
new=enabled
[[ "$old" != enabled ]] || new=disabled
got=$(ecs put-account-setting-default --name containerInsights --value "$new" --query 'setting.[name,value]' --output text | flat)
expect "put-account-setting-default containerInsights=$new" "$got" "containerInsights $new"
got=$(ecs list-account-settings --effective-settings --name containerInsights --query 'settings[0].value' --output text)
expect "list-account-settings --effective-settings" "$got" "$new"
got=$(ecs list-account-settings --effective-settings --query "settings[?name=='containerInsights'].value" --output text)
expect "list-account-settings --effective-settings (all names)" "$got" "$new"
got=$(ecs create-cluster --cluster-name "$P-insights" --query "cluster.settings[?name=='containerInsights'].value" --output text)
expect "a new cluster takes the account default" "$got" "$new"
got=$(ecs put-account-setting-default --name containerInsights --value "$old" --query 'setting.value' --output text)
expect "restore containerInsights=$old" "$got" "$old"

# ---------------------------------------------------------------- errors
step "errors: exit code 254 and the exception name"
expect_error ClientException describe-task-definition --task-definition "$P-missing"
expect_error ClusterNotFoundException delete-cluster --cluster "$P-missing"
expect_error ClientException deregister-task-definition --task-definition "$P-web"
expect_error InvalidParameterException put-account-setting-default --name containerInsights --value bogus
AWS_SECRET_ACCESS_KEY="wrong$AWS_SECRET_ACCESS_KEY" expect_error InvalidSignatureException list-clusters

# ---------------------------------------------------------------- clean up
step "delete-cluster"
for c in "$P-main" "$P-insights" "$P-page-1" "$P-page-2" "$P-page-3" "$P-page-4" "$P-page-5" "$P-page-6" "$P-page-7"; do
	got=$(ecs delete-cluster --cluster "$c" --query 'cluster.status' --output text)
	[[ "$got" == INACTIVE ]] || fail "delete-cluster $c: status $got, want INACTIVE"
done
ok "deleted 9 clusters"
got=$(ecs list-clusters --query 'clusterArns[]' --output text | words | grep -c -e "/$P-" || true)
expect "list-clusters no longer shows them" "$got" "0"
got=$(ecs describe-clusters --clusters "$P-main" --query 'clusters[0].status' --output text)
expect "describe-clusters of a deleted cluster" "$got" "INACTIVE"

echo "PASS: AWS CLI end-to-end checks against $BERTH_ENDPOINT"
