package configflows

import (
	"testing"

	"berth.dev/berth/internal/e2e/berthdev"
)

// TestAWSCLIConfig runs scripts/awscli-config.sh against `berth dev` on
// Docker: a secret, a SecureString parameter and a role made with the AWS
// CLI; a task whose `secrets` come from both (its environment read from the
// demo app), whose awslogs output is read back with get-log-events and
// filter-log-events; a new secret value seen by a new task; AssumeRole and
// GetCallerIdentity; errors for bad input; the clean-up.
func TestAWSCLIConfig(t *testing.T) {
	berthdev.Scripts{Bin: berthBin, RepoRoot: repoRoot, KeyID: testKeyID, Secret: testSecret}.Run(t, "awscli-config.sh")
}
