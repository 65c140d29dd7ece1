package e2e

import (
	"os"
	"testing"
)

// awsCLI is where Debian's awscli package installs the AWS CLI v2 (an older
// CLI may come first on PATH). The AWS CLI scripts and the README's
// quickstarts run in internal/e2e/userflows.
const awsCLI = "/usr/bin/aws"

// haveAWSCLI reports whether the AWS CLI is at awsCLI; where it is
// required (BERTH_REQUIRE_AWSCLI=1 or CI) its absence fails the test.
func haveAWSCLI(t *testing.T) bool {
	t.Helper()
	if _, err := os.Stat(awsCLI); err != nil {
		if os.Getenv("BERTH_REQUIRE_AWSCLI") == "1" || os.Getenv("CI") != "" {
			t.Fatalf("%s is required (BERTH_REQUIRE_AWSCLI=1 or CI is set): %v; install the Debian package awscli", awsCLI, err)
		}
		return false
	}
	return true
}
