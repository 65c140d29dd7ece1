package server

import (
	"crypto/subtle"
	"net/http"
	"time"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/sigv4"
)

// sessionLookup authenticates temporary credentials (stsapi.API.Lookup):
// the secret of an access key issued with that token, and its principal.
type sessionLookup interface {
	Lookup(accessKeyID, token string) (secret, principal string, err error)
}

// authenticator verifies SigV4 against the root credentials, or against
// temporary credentials STS issued when the request carries their
// security token, and names the caller: the account's root principal, or
// the assumed role (arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION). It
// verifies a request for the signing name of the service the edge routed
// it to: a request signed for another service is refused with AWS's scope
// error.
type authenticator struct {
	verifier sigv4.Verifier // Service is set per request
	root     string
	now      func() time.Time
	sessions sessionLookup // nil: no temporary credentials
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
// *apierr.Error (and the session lookup's: an invalid or expired token).
func (a *authenticator) verify(r *http.Request, body []byte, signingName string) (string, error) {
	v := a.verifier
	v.Service = signingName
	principal := a.root
	if a.sessions != nil {
		v.Session = func(id, token string) (string, error) {
			secret, p, err := a.sessions.Lookup(id, token)
			if err != nil {
				return "", err
			}
			principal = p
			return secret, nil
		}
	}
	if _, err := v.Verify(r, body, a.now()); err != nil {
		return "", err
	}
	return principal, nil
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
// as *apierr.Error. Only the root credentials are accepted there.
type agentAuth struct{ a *authenticator }

func (g agentAuth) Authenticate(r *http.Request, body []byte) (string, error) {
	root := *g.a
	root.sessions = nil
	return root.verify(r, body, "ecs")
}
