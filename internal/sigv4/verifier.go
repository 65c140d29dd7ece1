package sigv4

import (
	"crypto/hmac"
	"net/http"
	"strings"
	"time"

	"berth.dev/berth/internal/apierr"
)

// DefaultMaxSkew is the clock skew allowed when Verifier.MaxSkew is zero.
const DefaultMaxSkew = 5 * time.Minute

// Verifier checks SigV4 signatures for one service signing name.
type Verifier struct {
	// Service is the signing name the credential scope must carry ("ecs").
	Service string
	// Region, when set, is the only region a credential scope may name;
	// a request signed for another is refused as AWS refuses it. Empty
	// accepts any region-shaped name.
	Region string
	// MaxSkew bounds |now - request time|; zero or negative means DefaultMaxSkew.
	MaxSkew time.Duration
	// Lookup returns the secret access key for an access key id. An empty
	// secret counts as unknown.
	Lookup func(accessKeyID string) (secret string, ok bool)
	// Session, when set, authenticates a request that carries an
	// X-Amz-Security-Token (header or query): it returns the secret of
	// the temporary access key issued with that token, or the error to
	// answer (an *apierr.Error: an unknown key or a wrong token, an
	// expired token). Nil refuses every token as an unrecognized client.
	Session func(accessKeyID, token string) (secret string, err error)
}

// Identity is who signed a verified request.
type Identity struct {
	AccessKeyID string
	Region      string // from the credential scope
}

// Verify checks r, whose body the caller has already read into body, as of
// now. It returns the signer's identity, or an *apierr.Error.
func (v *Verifier) Verify(r *http.Request, body []byte, now time.Time) (Identity, error) {
	if v.Service == "" || v.Lookup == nil {
		return Identity{}, apierr.New(apierr.Server, "sigv4: Verifier needs Service and Lookup")
	}
	query := parseQuery(r.URL.RawQuery)
	c, err := readClaim(r, query)
	if err != nil {
		return Identity{}, err
	}
	t, stamp, timeHeader, err := requestTime(r, c)
	if err != nil {
		return Identity{}, err
	}
	if err := checkSignedHeaders(r, c, timeHeader); err != nil {
		return Identity{}, err
	}
	if c.service != v.Service {
		return Identity{}, invalid("Credential should be scoped to correct service: '%s'.", v.Service)
	}
	if !validRegion(c.region) || v.Region != "" && c.region != v.Region {
		return Identity{}, invalid("Credential should be scoped to a valid region, not '%s'.", echo(c.region))
	}
	if day := t.Format(scopeDateLayout); c.date != day {
		return Identity{}, invalid("Date in Credential scope does not match YYYYMMDD from ISO-8601 version "+
			"of date from HTTP: '%s' != '%s', from '%s'.", echo(c.date), day, stamp)
	}
	if err := v.checkTime(c, t, now); err != nil {
		return Identity{}, err
	}
	var secret string
	if token, n := sessionToken(r, query); n > 0 {
		if v.Session == nil || n > 1 || token == "" {
			return Identity{}, badToken()
		}
		s, err := v.Session(c.accessKeyID, token)
		if err != nil {
			return Identity{}, err
		}
		if s == "" {
			return Identity{}, badToken()
		}
		secret = s
	} else {
		s, ok := v.Lookup(c.accessKeyID)
		if !ok || s == "" {
			return Identity{}, badToken()
		}
		secret = s
	}
	payloads, err := payloadHashes(r, c, body)
	if err != nil {
		return Identity{}, err
	}

	key := signingKey(secret, c.date, c.region, c.service)
	q := canonicalQuery(query, c.presigned)
	headers := canonicalHeaders(r, c.signedHeaders)
	match := false
	for _, uri := range canonicalURIs(r) {
		for _, p := range payloads {
			creq := canonicalRequest(r.Method, uri, q, headers, c.signedHeadersRaw, p)
			sig := signature(key, stringToSign(stamp, c.scope(), creq))
			if hmac.Equal([]byte(sig), []byte(c.signature)) {
				match = true
			}
		}
	}
	if !match {
		return Identity{}, mismatch()
	}
	return Identity{AccessKeyID: c.accessKeyID, Region: c.region}, nil
}

// sessionToken returns the request's security token and how many it
// carries (header values and query parameters together).
func sessionToken(r *http.Request, query []pair) (string, int) {
	hv := r.Header.Values(securityToken)
	qv, qn := lookup(query, securityToken)
	if len(hv) > 0 {
		return strings.TrimSpace(hv[0]), len(hv) + qn
	}
	return qv, qn
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew <= 0 {
		return DefaultMaxSkew
	}
	return v.MaxSkew
}

// checkTime enforces the window: ±MaxSkew around now for header signatures;
// for presigned requests, from date-MaxSkew to date+X-Amz-Expires.
func (v *Verifier) checkTime(c *claim, t, now time.Time) error {
	skew := v.maxSkew()
	if t.After(now.Add(skew)) {
		return notYetCurrent(t, now, skew)
	}
	window := skew
	if c.presigned {
		window = c.expires
	}
	if t.Before(now.Add(-window)) {
		return expired(t, now, window)
	}
	return nil
}

// checkSignedHeaders requires host and the time header to be signed, and
// every signed header to be present.
func checkSignedHeaders(r *http.Request, c *claim, timeHeader string) error {
	if !c.signs("host") {
		return incomplete(msgHostUnsigned)
	}
	if timeHeader != "" && !c.signs(timeHeader) {
		name := "X-Amz-Date"
		if timeHeader == "date" {
			name = "Date"
		}
		return incomplete("'%s' must be a 'SignedHeader' in the AWS Authorization.", name)
	}
	for _, h := range c.signedHeaders {
		if _, ok := headerValues(r, h); !ok {
			return incomplete("'%s' is listed in SignedHeaders but the request has no such header.", echo(h))
		}
	}
	return nil
}

// payloadHashes returns the payload hashes the client may have signed: the
// body's SHA-256, or a signed X-Amz-Content-Sha256 that must agree with it.
// Presigned requests may also sign UNSIGNED-PAYLOAD.
func payloadHashes(r *http.Request, c *claim, body []byte) ([]string, error) {
	sum := hashHex(body)
	if c.signs("x-amz-content-sha256") {
		v, _ := headerValues(r, "x-amz-content-sha256")
		claimed := canonicalValue(v)
		if c.presigned && claimed == unsignedPayload {
			return []string{claimed}, nil
		}
		if !strings.EqualFold(claimed, sum) {
			return nil, invalid(msgPayloadHash)
		}
		return []string{claimed}, nil
	}
	if c.presigned {
		return []string{sum, unsignedPayload}, nil
	}
	return []string{sum}, nil
}
