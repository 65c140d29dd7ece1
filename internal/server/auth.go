package server

import (
	"crypto/subtle"
	"net/http"
	"time"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/sigv4"
)

// authenticator verifies SigV4 against the root credentials and names the
// caller as the account's root principal. It verifies a request for the
// signing name of the service the edge routed it to: a request signed for
// another service is refused with AWS's scope error.
type authenticator struct {
	verifier sigv4.Verifier // Service is set per request
	root     string
	now      func() time.Time
}

// A request signed for another region than the server's is refused, as
// AWS refuses it: its ARNs would name a region the server does not serve.
func newAuthenticator(creds Credentials, rootARN, region string, now func() time.Time) *authenticator {
	return &authenticator{
		root: rootARN,
		now:  now,
		verifier: sigv4.Verifier{
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

// verify checks r's signature for signingName; its errors are sigv4's
// *apierr.Error.
func (a *authenticator) verify(r *http.Request, body []byte, signingName string) (string, error) {
	v := a.verifier
	v.Service = signingName
	if _, err := v.Verify(r, body, a.now()); err != nil {
		return "", err
	}
	return a.root, nil
}

// Authenticate is the edge's authentication: sigv4's errors become
// awsproto errors with the same AWS JSON codes and messages (the edge
// renames them for Query services).
func (a *authenticator) Authenticate(r *http.Request, body []byte, signingName string) (string, error) {
	p, err := a.verify(r, body, signingName)
	if err != nil {
		if e, ok := apierr.As(err); ok {
			return "", awsproto.WithStatus(e.Status(), e.Code, e.Message)
		}
		return "", err
	}
	return p, nil
}

// agentAuth authenticates the agent endpoints: signed for "ecs", errors
// as *apierr.Error.
type agentAuth struct{ a *authenticator }

func (g agentAuth) Authenticate(r *http.Request, body []byte) (string, error) {
	return g.a.verify(r, body, "ecs")
}
