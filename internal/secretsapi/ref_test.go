package secretsapi_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"berth.dev/berth/internal/secretsapi"
)

func TestParseReference(t *testing.T) {
	const a = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
	good := []struct {
		ref  string
		want secretsapi.Reference
	}{
		{a, secretsapi.Reference{SecretID: a}},
		{a + ":username::", secretsapi.Reference{SecretID: a, JSONKey: "username"}},
		{a + ":username:AWSPREVIOUS:", secretsapi.Reference{SecretID: a, JSONKey: "username", VersionStage: "AWSPREVIOUS"}},
		{a + "::AWSPREVIOUS:", secretsapi.Reference{SecretID: a, VersionStage: "AWSPREVIOUS"}},
		{a + ":::" + strings.Repeat("1", 32), secretsapi.Reference{SecretID: a, VersionID: strings.Repeat("1", 32)}},
		{a + ":k", secretsapi.Reference{SecretID: a, JSONKey: "k"}},
		{"db", secretsapi.Reference{SecretID: "db"}},
		{"prod/db", secretsapi.Reference{SecretID: "prod/db"}},
	}
	for _, c := range good {
		got, err := secretsapi.ParseReference(c.ref)
		if err != nil || got != c.want {
			t.Errorf("%s: %+v %v, want %+v", c.ref, got, err, c.want)
		}
	}
	bad := []string{
		"",
		"arn:aws:ssm:us-east-1:123456789012:parameter/x",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret",
		"arn:aws:secretsmanager:us-east-1:123456789012:other:db",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:bad name",
		a + ":k:s:" + strings.Repeat("1", 32) + ":extra",
		a + ":k:s:short",
		"db:key",
		"bad name",
	}
	for _, ref := range bad {
		_, err := secretsapi.ParseReference(ref)
		var re *secretsapi.ReferenceError
		if !errors.Is(err, secretsapi.ErrInvalidReference) || !errors.As(err, &re) {
			t.Errorf("%q: %v, want ErrInvalidReference", ref, err)
		}
	}
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:username::",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf::AWSCURRENT:",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:::00000000000000000000000000000000",
		"db", "", ":::", "arn:", "arn:aws:secretsmanager:::secret:x:::::",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		r, err := secretsapi.ParseReference(ref)
		if err != nil {
			if !errors.Is(err, secretsapi.ErrInvalidReference) {
				t.Fatalf("%q: error %v is no ErrInvalidReference", ref, err)
			}
			return
		}
		if r.SecretID == "" {
			t.Fatalf("%q: no secret ID", ref)
		}
		// A parsed reference reads back as itself.
		again := r.SecretID
		if r.JSONKey != "" || r.VersionStage != "" || r.VersionID != "" {
			again += ":" + r.JSONKey + ":" + r.VersionStage + ":" + r.VersionID
		}
		r2, err := secretsapi.ParseReference(again)
		if err != nil || r2 != r {
			t.Fatalf("%q: %+v reads back from %q as %+v %v", ref, r, again, r2, err)
		}
		if !strings.HasPrefix(ref, r.SecretID) {
			t.Fatalf("%q: secret ID %q is not its start", ref, r.SecretID)
		}
	})
}

func TestResolveSecretValue(t *testing.T) {
	e := newEnv(t)
	out := e.create(t, &sm.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String(`{"username":"admin","port":5432,"nested":{"a":1}}`), ClientRequestToken: tok(1)})
	if _, err := e.c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("db"), SecretString: aws.String(`{"username":"root"}`), ClientRequestToken: tok(2)}); err != nil {
		t.Fatal(err)
	}
	e.create(t, &sm.CreateSecretInput{Name: aws.String("plain"), SecretString: aws.String("hunter2")})
	e.create(t, &sm.CreateSecretInput{Name: aws.String("empty")})
	a := aws.ToString(out.ARN)
	good := map[string]string{
		a:                                     `{"username":"root"}`,
		a + ":username::":                     "root",
		a + ":username:AWSPREVIOUS:":          "admin",
		a + ":port:AWSPREVIOUS:":              "5432",
		a + ":nested:AWSPREVIOUS:":            `{"a":1}`,
		a + ":username::" + *tok(1):           "admin",
		a + "::AWSPREVIOUS:":                  `{"username":"admin","port":5432,"nested":{"a":1}}`,
		prefix + "db" + ":username::":         "root", // a partial ARN
		"plain":                               "hunter2",
		prefix + "plain-Ab0002":               "hunter2",
		a + ":username:AWSCURRENT:" + *tok(2): "root",
	}
	for ref, want := range good {
		got, err := e.api.ResolveSecretValue(ctx, ref)
		if err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", ref, got, err, want)
		}
	}
	bad := map[string]error{
		"missing":                     secretsapi.ErrSecretNotFound,
		prefix + "db-XXXXXX":          secretsapi.ErrSecretNotFound,
		a + ":password::":             secretsapi.ErrKeyNotFound,
		prefix + "plain-Ab0002:key::": secretsapi.ErrNotJSON,
		a + "::AWSPENDING:":           secretsapi.ErrVersionNotFound,
		a + ":::" + *tok(9):           secretsapi.ErrVersionNotFound,
		a + "::AWSCURRENT:" + *tok(1): secretsapi.ErrVersionNotFound,
		"empty":                       secretsapi.ErrVersionNotFound,
		"arn:aws:secretsmanager:x":    secretsapi.ErrInvalidReference,
	}
	for ref, want := range bad {
		_, err := e.api.ResolveSecretValue(ctx, ref)
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", ref, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "admin") {
			t.Errorf("%s: the error shows the value: %v", ref, err)
		}
	}
	if _, err := e.c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("plain")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.api.ResolveSecretValue(ctx, "plain"); !errors.Is(err, secretsapi.ErrSecretDeleted) {
		t.Fatalf("deleted: %v", err)
	}
}
