package contract

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

const secretPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"app","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/app"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`

// TestTerraformSecret replays `terraform apply` of an
// aws_secretsmanager_secret with a policy and tags and an
// aws_secretsmanager_secret_version, a plan (refresh), an update of the
// description, tags and policy, a new value (the version replaced), a
// version whose stages move AWSCURRENT, `terraform destroy` and a refresh
// after it.
func TestTerraformSecret(t *testing.T) {
	p := newCfgProvider(t)
	c := ctx(t)
	cfg := secretConfig{name: "app/db", description: "the database", policy: secretPolicy, tags: map[string]string{"team": "a"}, recoveryWindowInDays: 30}
	id, err := p.createSecret(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-") {
		t.Fatalf("secret ID %s", id)
	}
	want := map[string]any{"arn": id, "name": "app/db", "description": "the database", "kms_key_id": "", "policy": secretPolicy,
		"tags": cfg.tags, "replica": 0}
	st, err := p.readSecret(c, id, cfg.policy)
	if err != nil {
		t.Fatal(err)
	}
	wantNoDiff(t, "secret after create", want, st)

	v1, err := p.createSecretVersion(c, id, `{"password":"one"}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	vst, err := p.readSecretVersion(c, v1)
	if err != nil {
		t.Fatal(err)
	}
	wantNoDiff(t, "version after create", map[string]any{"arn": id, "secret_string": `{"password":"one"}`, "secret_id": id,
		"version_stages": []string{stageCurrent}}, vst)

	// Update: description, tags and no policy.
	next := cfg
	next.description, next.policy, next.tags = "the primary database", "", map[string]string{"team": "b", "env": "prod"}
	if err := p.updateSecret(c, id, cfg, next); err != nil {
		t.Fatal(err)
	}
	st, err = p.readSecret(c, id, next.policy)
	if err != nil {
		t.Fatal(err)
	}
	want["description"], want["policy"], want["tags"] = next.description, "", next.tags
	wantNoDiff(t, "secret after update", want, st)

	// A new value replaces the version (secret_string forces a new
	// resource; destroy first, then create).
	if err := p.deleteSecretVersion(c, v1, []string{stageCurrent}); err != nil {
		t.Fatal(err)
	}
	v2, err := p.createSecretVersion(c, id, `{"password":"two"}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if vst, err = p.readSecretVersion(c, v2); err != nil || vst["secret_string"] != `{"password":"two"}` {
		t.Fatalf("second version: %v %v", vst, err)
	}
	// A version staged apart, then made current.
	v3, err := p.createSecretVersion(c, id, `{"password":"three"}`, []string{"staging"})
	if err != nil {
		t.Fatal(err)
	}
	if vst, _ = p.readSecretVersion(c, v3); vst == nil || !equalStrings(vst["version_stages"], []string{"staging"}) {
		t.Fatalf("staged version: %v", vst)
	}
	if err := p.updateSecretVersionStages(c, v3, []string{"staging"}, []string{"staging", stageCurrent}); err != nil {
		t.Fatal(err)
	}
	if vst, _ = p.readSecretVersion(c, v3); !equalStrings(vst["version_stages"], []string{stageCurrent, "staging"}) {
		t.Errorf("made current: stages %v", vst["version_stages"])
	}
	if vst, _ = p.readSecretVersion(c, v2); !equalStrings(vst["version_stages"], []string{stagePrevious}) {
		t.Errorf("the version made previous: stages %v", vst["version_stages"])
	}
	got, err := p.sm.GetSecretValue(c, &sm.GetSecretValueInput{SecretId: aws.String("app/db")})
	if err != nil || aws.ToString(got.SecretString) != `{"password":"three"}` {
		t.Errorf("the current value: %v %v", got, err)
	}

	// Destroy: the versions, then the secret (30 days' recovery window).
	for _, v := range []struct {
		id     string
		stages []string
	}{{v3, []string{"staging", stageCurrent}}, {v2, []string{stageCurrent}}} {
		if err := p.deleteSecretVersion(c, v.id, v.stages); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.deleteSecret(c, id, 30); err != nil {
		t.Fatal(err)
	}
	if st, err := p.readSecret(c, id, ""); err != nil || st != nil {
		t.Errorf("refresh after destroy: %v %v, want the secret gone from the state", st, err)
	}
	if vst, err := p.readSecretVersion(c, v3); err != nil || vst != nil {
		t.Errorf("version refresh after destroy: %v %v, want it gone from the state", vst, err)
	}
	if err := p.deleteSecret(c, id, 30); err == nil || !strings.Contains(err.Error(), "already scheduled for deletion") {
		// A second destroy is not the provider's path; the error names why.
		t.Logf("second delete: %v", err)
	}
	// Creating it again within the window: the error the provider retries
	// on (until its timeout, as against AWS).
	short, cancel := withTimeout(c, time.Second)
	defer cancel()
	_, err = retryValue(short, 300*time.Millisecond, func() (*sm.CreateSecretOutput, error) {
		return p.sm.CreateSecret(short, &sm.CreateSecretInput{Name: aws.String("app/db"), Description: aws.String("")})
	}, func(err error) bool {
		var ire *smtypes.InvalidRequestException
		return errors.As(err, &ire) && strings.Contains(ire.ErrorMessage(), "scheduled for deletion")
	})
	var ire *smtypes.InvalidRequestException
	if !errors.As(err, &ire) || !strings.Contains(ire.ErrorMessage(), "scheduled for deletion") {
		t.Errorf("create within the recovery window: %v, want the InvalidRequestException the provider retries on", err)
	}

	// recovery_window_in_days = 0: deleted at once, created again at once.
	quick := secretConfig{name: "app/quick", recoveryWindowInDays: 0}
	qid, err := p.createSecret(c, quick)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.deleteSecret(c, qid, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := p.createSecret(c, quick); err != nil {
		t.Fatalf("create after a forced delete: %v", err)
	}
}

func equalStrings(v any, want []string) bool {
	got, ok := v.([]string)
	if !ok || len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}
