package sigv4

import (
	"net/http"
	"strings"
	"testing"

	"berth.dev/berth/internal/apierr"
)

var authCodes = map[string]bool{
	apierr.MissingAuthenticationToken: true,
	apierr.IncompleteSignature:        true,
	apierr.InvalidSignature:           true,
	apierr.UnrecognizedClient:         true,
}

// FuzzParseAuthorization feeds arbitrary Authorization headers, query
// strings and bodies through the parser and Verify. Nothing may panic, every
// failure must be an authentication-layer *apierr.Error, and only the one
// genuine signature, over the genuine body, may ever pass.
func FuzzParseAuthorization(f *testing.F) {
	const body = `{}`
	genuine := ecsRequest("http://localhost:8080/", "", body)
	sdkSign(f, genuine, []byte(body), signOpts{})
	authz := genuine.Header.Get("Authorization")
	gc, err := parseAuthorization(authz)
	if err != nil {
		f.Fatalf("parse genuine header: got %v, want nil", err)
	}

	// The harness's own request shape must accept the genuine header, or the
	// "only the genuine signature passes" check below would be vacuous.
	if _, err := testVerifier().Verify(fuzzRequest(authz, "", []byte(body)), []byte(body), t0); err != nil {
		f.Fatalf("genuine request in fuzz shape: got %v, want nil", err)
	}

	f.Add(authz, "", []byte(body))
	f.Add(authz, "", []byte(`{"cluster":"x"}`))
	f.Add(authz, "X-Amz-Signature=00&X-Amz-Algorithm=AWS4-HMAC-SHA256", []byte(body))
	f.Add(strings.Replace(authz, ", ", ",", -1), "&&", []byte(body))
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00", "a=%zz&b", []byte("x"))
	f.Add("AWS4-HMAC-SHA256 ,,,=,==", "", []byte(nil))
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=k%2F20260501%2Fr%2Fecs%2Faws4_request"+
		"&X-Amz-Date=20260501T120000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=ab", []byte(nil))

	f.Fuzz(func(t *testing.T, authz, rawQuery string, b []byte) {
		c, err := parseAuthorization(authz)
		switch {
		case err == nil && c.signedHeadersRaw != strings.Join(c.signedHeaders, ";"):
			t.Fatalf("signed headers: got %v, want %v", strings.Join(c.signedHeaders, ";"), c.signedHeadersRaw)
		case err != nil && !authCodes[apierr.CodeOf(err)]:
			t.Fatalf("parse error code: got %v, want an authentication code", err)
		}

		id, err := testVerifier().Verify(fuzzRequest(authz, rawQuery, b), b, t0)
		if err != nil {
			if !authCodes[apierr.CodeOf(err)] {
				t.Fatalf("Verify error code: got %v, want an authentication code", err)
			}
			return
		}
		if c == nil || c.signature != gc.signature || string(b) != body {
			t.Fatalf("Verify: got %v, nil error, want failure for a signature or body the client never made", id)
		}
	})
}

func fuzzRequest(authz, rawQuery string, b []byte) *http.Request {
	req := ecsRequest("/", "localhost:8080", string(b))
	req.URL.RawQuery = rawQuery
	req.Header.Set("X-Amz-Date", t0.Format(amzDateLayout))
	req.Header.Set("Authorization", authz)
	return req
}
