package contract

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

func errContains(err error, s string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && strings.Contains(ae.ErrorMessage(), s)
}

// TestTerraformParameter replays aws_ssm_parameter: a SecureString with
// a KMS key and tags, a refresh (the value decrypted), an overwrite with
// a new value, tier, key, description and changed tags, a StringList
// parameter, `terraform destroy` and a refresh after it. (A type change
// SSM refuses, HierarchyTypeMismatchException, as AWS does.)
func TestTerraformParameter(t *testing.T) {
	p := newCfgProvider(t)
	c := ctx(t)
	cfg := parameterConfig{name: "/app/db/password", typ: "SecureString", value: "s3cret", description: "the password", tier: "Standard",
		keyID: "alias/aws/ssm", tags: map[string]string{"team": "a"}}
	if err := p.putParameter(c, cfg, nil); err != nil {
		t.Fatal(err)
	}
	st, err := p.readParameter(c, cfg.name)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"arn": "arn:aws:ssm:us-east-1:123456789012:parameter/app/db/password", "name": cfg.name, "type": "SecureString",
		"value": "s3cret", "version": int64(1), "allowed_pattern": "", "data_type": "text", "description": "the password",
		"key_id": "alias/aws/ssm", "tier": "Standard", "tags": cfg.tags}
	wantNoDiff(t, "parameter after create", want, st)

	next := cfg
	next.value, next.tier, next.description, next.keyID = "n3w", "Advanced", "the new password", "alias/app"
	next.tags = map[string]string{"team": "b", "env": "prod"}
	if err := p.putParameter(c, next, &cfg); err != nil {
		t.Fatal(err)
	}
	if st, err = p.readParameter(c, cfg.name); err != nil {
		t.Fatal(err)
	}
	want["value"], want["version"], want["tier"], want["description"] = "n3w", int64(2), "Advanced", "the new password"
	want["tags"], want["key_id"] = next.tags, "alias/app"
	wantNoDiff(t, "parameter after update", want, st)

	plain := parameterConfig{name: "app.mode", typ: "StringList", value: "a,b", tier: "Standard"}
	if err := p.putParameter(c, plain, nil); err != nil {
		t.Fatal(err)
	}
	if st, err := p.readParameter(c, plain.name); err != nil || st["arn"] != "arn:aws:ssm:us-east-1:123456789012:parameter/app.mode" || st["value"] != "a,b" {
		t.Errorf("a parameter whose name has no slash: %v %v", st, err)
	}

	for _, name := range []string{cfg.name, plain.name} {
		if err := p.deleteParameter(c, name); err != nil {
			t.Fatal(err)
		}
		if st, err := p.readParameter(c, name); err != nil || st != nil {
			t.Errorf("refresh of %s after destroy: %v %v, want it gone from the state", name, st, err)
		}
		if err := p.deleteParameter(c, name); err != nil {
			t.Errorf("destroy again: %v", err)
		}
	}
}
