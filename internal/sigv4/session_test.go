package sigv4

import (
	"errors"
	"testing"

	"berth.dev/berth/internal/apierr"
)

// A request carrying a security token is verified with the secret
// Session returns for that key and token; Session's error is the answer;
// a temporary key without a token goes to Lookup, which does not know it.
func TestSessionTokens(t *testing.T) {
	const tempKey, tempSecret, token = "ASIATESTTEMPKEY00001", "tempsecret/0123456789abcdefghijklmnopqrs", "the-token"
	expired := apierr.New("ExpiredTokenException", "The security token included in the request is expired")
	v := testVerifier()
	v.Session = func(id, tok string) (string, error) {
		switch {
		case id == tempKey && tok == token:
			return tempSecret, nil
		case id == tempKey && tok == "old":
			return "", expired
		}
		return "", badToken()
	}
	sign := func(tok, key, secret string) error {
		body := []byte(`{}`)
		r := ecsRequest("http://ecs.us-east-1.amazonaws.com/", "", string(body))
		sdkSign(t, r, body, signOpts{key: key, secret: secret, token: tok})
		_, err := v.Verify(r, body, t0)
		return err
	}
	if err := sign(token, tempKey, tempSecret); err != nil {
		t.Fatalf("valid token: %v", err)
	}
	if err := sign("old", tempKey, tempSecret); !errors.Is(err, expired) {
		t.Fatalf("expired token: got %v", err)
	}
	for name, err := range map[string]error{
		"wrong token":  sign("nope", tempKey, tempSecret),
		"no token":     sign("", tempKey, tempSecret),
		"root + token": sign(token, testKey, testSecret),
		"wrong secret": sign(token, tempKey, testSecret),
	} {
		e, ok := apierr.As(err)
		want := apierr.UnrecognizedClient
		if name == "wrong secret" {
			want = apierr.InvalidSignature
		}
		if !ok || e.Code != want {
			t.Errorf("%s: got %v, want %s", name, err, want)
		}
	}
	v.Session = nil
	if e, ok := apierr.As(sign(token, tempKey, tempSecret)); !ok || e.Code != apierr.UnrecognizedClient {
		t.Error("a token without a Session hook was not refused")
	}
}
