package secretsapi

import (
	"errors"
	"testing"

	"berth.dev/berth/internal/awsproto"
)

// FuzzCheckResourcePolicy: any text is accepted as given or refused with
// one of Secrets Manager's client errors, never a panic.
func FuzzCheckResourcePolicy(f *testing.F) {
	for _, s := range []string{"", "{", "[]", `{"Statement":[]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:*","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["123456789012"]},"NotAction":"*"}}`} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, doc string, block bool) {
		got, err := checkResourcePolicy(&doc, block)
		if err == nil {
			if got != doc {
				t.Fatalf("accepted %q as %q", doc, got)
			}
			return
		}
		var ae *awsproto.Error
		if !errors.As(err, &ae) {
			t.Fatalf("error %T %v is no API error", err, err)
		}
		switch ae.Code {
		case codeMalformedPolicy, codePublicPolicy, "InvalidParameterException":
		default:
			t.Fatalf("code %s for %q", ae.Code, doc)
		}
	})
}
