# scripts/lib/awscli.sh: what the AWS CLI script tests share. Source it after
# `set -euo pipefail`. It checks the environment (BERTH_ENDPOINT,
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION), isolates the CLI from
# any user configuration (one attempt per call, no pager), sets CLUSTER
# (BERTH_CLUSTER, default "default") and TMP (removed on exit), and defines
# fail, step, ok, ecs (aws ecs with berth's endpoint; fails the script on an
# error) and expect.

AWS=/usr/bin/aws
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
for v in BERTH_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION; do
	[[ -n "${!v:-}" ]] || fail "$v is not set"
done
[[ -x "$AWS" ]] || fail "$AWS not found: install the Debian package awscli"
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_DEFAULT_OUTPUT
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_PAGER="" AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard

CLUSTER="${BERTH_CLUSTER:-default}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

step() { echo "--- $*"; }
ok() { echo "    ok: $*"; }
ecs() {
	local rc=0
	"$AWS" --endpoint-url "$BERTH_ENDPOINT" --region "$AWS_REGION" ecs "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	((rc == 0)) || fail "aws ecs $* exited with $rc: $(cat "$TMP/err")"
	cat "$TMP/out"
}
expect() { # expect WHAT GOT WANT
	[[ "$2" == "$3" ]] || fail "$1: got '$2', want '$3'"
	ok "$1 = $3"
}
