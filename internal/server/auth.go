package server

import (
	"crypto/subtle"
	"net/http"
	"time"

	"berth.dev/berth/internal/sigv4"
)

// authenticator verifies SigV4 against the root credentials and names the
// caller as the account's root principal.
type authenticator struct {
	verifier *sigv4.Verifier
	root     string
	now      func() time.Time
}

// A request signed for another region than the server's is refused, as
// AWS refuses it: its ARNs would name a region the server does not serve.
func newAuthenticator(creds Credentials, rootARN, region string, now func() time.Time) *authenticator {
	return &authenticator{
		root: rootARN,
		now:  now,
		verifier: &sigv4.Verifier{
			Service: "ecs",
			Region:  region,
			MaxSkew: 5 * time.Minute,
			Lookup: func(id string) (string, bool) {
				if subtle.ConstantTimeCompare([]byte(id), []byte(creds.AccessKeyID)) == 1 {
					return creds.SecretAccessKey, true
				}
				return "", false
			},
		},
	}
}

func (a *authenticator) Authenticate(r *http.Request, body []byte) (string, error) {
	if _, err := a.verifier.Verify(r, body, a.now()); err != nil {
		return "", err
	}
	return a.root, nil
}
