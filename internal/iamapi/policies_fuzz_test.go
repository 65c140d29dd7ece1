package iamapi

import (
	"errors"
	"testing"

	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/policy"
)

// FuzzManagedPolicyInput: a managed policy document, a version ID and a
// policy ARN are accepted as given or refused with IAM's client errors,
// never a panic.
func FuzzManagedPolicyInput(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, "v1", "arn:aws:iam::123456789012:policy/p")
	f.Add("{", "v0", "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
	f.Add("", "v12.beta-1", "arn:aws:iam::aws:policy/")
	a := New(Config{Account: "123456789012"})
	f.Fuzz(func(t *testing.T, doc, version, arn string) {
		check := func(what string, got, in string, err error, codes ...string) {
			if err == nil {
				if got != in {
					t.Fatalf("%s %q accepted as %q", what, in, got)
				}
				return
			}
			var pe *policy.Error
			if errors.As(err, &pe) {
				return
			}
			var ae *awsproto.Error
			if !errors.As(err, &ae) {
				t.Fatalf("%s %q: error %T %v is no API error", what, in, err, err)
			}
			for _, c := range codes {
				if ae.Code == c {
					return
				}
			}
			t.Fatalf("%s %q: code %s", what, in, ae.Code)
		}
		got, err := managedDocument(&doc)
		check("document", got, doc, err, CodeLimitExceeded)
		got, err = checkVersionID(&version)
		check("version ID", got, version, err, CodeValidation)
		if err == nil && (len(got) < 2 || got[0] != 'v') {
			t.Fatalf("version ID %q accepted", got)
		}
		got, err = a.checkPolicyARN(&arn, "policyArn")
		check("policy ARN", got, arn, err, CodeInvalidInput)
	})
}
