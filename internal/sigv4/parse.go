package sigv4

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	algorithm       = "AWS4-HMAC-SHA256"
	terminator      = "aws4_request"
	amzDateLayout   = "20060102T150405Z"
	scopeDateLayout = "20060102"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	maxExpires      = 604800 // seconds, one week
)

// Query parameters of a presigned request.
const (
	qAlgorithm     = "X-Amz-Algorithm"
	qCredential    = "X-Amz-Credential"
	qDate          = "X-Amz-Date"
	qExpires       = "X-Amz-Expires"
	qSignedHeaders = "X-Amz-SignedHeaders"
	qSignature     = "X-Amz-Signature"
	securityToken  = "X-Amz-Security-Token"
)

// claim is what a request says about its own signature. Nothing in it is
// trusted until the signature has been recomputed.
type claim struct {
	accessKeyID           string
	date, region, service string // credential scope, without the terminator
	signedHeaders         []string
	signedHeadersRaw      string // exactly as sent; it goes into the canonical request
	signature             string

	presigned bool
	queryDate string        // presigned: the X-Amz-Date parameter
	expires   time.Duration // presigned: X-Amz-Expires
}

func (c *claim) scope() string {
	return c.date + "/" + c.region + "/" + c.service + "/" + terminator
}

func (c *claim) signs(name string) bool {
	for _, h := range c.signedHeaders {
		if h == name {
			return true
		}
	}
	return false
}

// readClaim finds the credentials a request presents, in the Authorization
// header or in presigned query parameters.
func readClaim(r *http.Request, query []pair) (*claim, error) {
	auth := r.Header.Values("Authorization")
	presigned := has(query, qAlgorithm) || has(query, qCredential) || has(query, qSignature)
	switch {
	case len(auth) == 0 || (len(auth) == 1 && strings.TrimSpace(auth[0]) == ""):
		if presigned {
			return parsePresigned(query)
		}
		return nil, missingToken()
	case presigned:
		return nil, incomplete(msgBothForms)
	case len(auth) > 1:
		return nil, incomplete("Only one 'Authorization' header is allowed.")
	}
	return parseAuthorization(auth[0])
}

// parseAuthorization parses
// "AWS4-HMAC-SHA256 Credential=<id>/<scope>, SignedHeaders=<h;h>, Signature=<hex>".
func parseAuthorization(h string) (*claim, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != algorithm {
		return nil, incomplete("Unsupported AWS 'algorithm': '%s'.", echo(alg))
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, incomplete("'%s' not a valid key=value pair (missing equal-sign) in Authorization header.", echo(part))
		}
		if _, dup := fields[k]; dup {
			return nil, incomplete("Authorization header has a duplicate '%s' parameter.", echo(k))
		}
		fields[k] = v
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if fields[k] == "" {
			missing = append(missing, "Authorization header requires '"+k+"' parameter.")
		}
	}
	if len(missing) > 0 {
		return nil, requires(missing)
	}
	c := &claim{
		signedHeadersRaw: fields["SignedHeaders"],
		signedHeaders:    strings.Split(fields["SignedHeaders"], ";"),
		signature:        fields["Signature"],
	}
	return c, c.setCredential(fields["Credential"])
}

// parsePresigned reads the X-Amz-* query parameters of a presigned request.
func parsePresigned(query []pair) (*claim, error) {
	vals := map[string]string{}
	var missing []string
	for _, k := range []string{qAlgorithm, qCredential, qSignature, qDate, qSignedHeaders, qExpires} {
		v, n := lookup(query, k)
		if n > 1 {
			return nil, incomplete("AWS query-string parameter '%s' must appear only once.", k)
		}
		if v == "" {
			missing = append(missing, "AWS query-string parameters must include '"+k+"'.")
		}
		vals[k] = v
	}
	if len(missing) > 0 {
		return nil, requires(append(missing, "Re-examine the query-string parameters."))
	}
	if vals[qAlgorithm] != algorithm {
		return nil, incomplete("Unsupported AWS 'algorithm': '%s'.", echo(vals[qAlgorithm]))
	}
	secs, err := strconv.ParseInt(vals[qExpires], 10, 64)
	if err != nil || secs < 1 || secs > maxExpires {
		return nil, incomplete("X-Amz-Expires must be a whole number of seconds from 1 to %d, not '%s'.",
			maxExpires, echo(vals[qExpires]))
	}
	c := &claim{
		signedHeadersRaw: vals[qSignedHeaders],
		signedHeaders:    strings.Split(vals[qSignedHeaders], ";"),
		signature:        vals[qSignature],
		presigned:        true,
		queryDate:        vals[qDate],
		expires:          time.Duration(secs) * time.Second,
	}
	return c, c.setCredential(vals[qCredential])
}

// setCredential splits "<id>/<yyyymmdd>/<region>/<service>/aws4_request".
func (c *claim) setCredential(cred string) error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return incomplete("Credential must have exactly 5 slash-delimited elements, "+
			"e.g. keyid/date/region/service/term, got '%s'", echo(cred))
	}
	if parts[4] != terminator {
		return incomplete("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", echo(parts[4]))
	}
	c.accessKeyID, c.date, c.region, c.service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

// validRegion accepts any region-shaped name: the region ends up in ARNs, so
// it must not carry ':' or '/' or spaces.
func validRegion(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// parseAmzDate accepts exactly the 20060102T150405Z form.
func parseAmzDate(s string) (time.Time, bool) {
	t, err := time.Parse(amzDateLayout, s)
	if err != nil || t.Format(amzDateLayout) != s {
		return time.Time{}, false
	}
	return t, true
}

// requestTime returns the signing time, its string-to-sign form, and the
// header it came from ("x-amz-date" or "date"; "" for a presigned request,
// whose time is the X-Amz-Date query parameter).
func requestTime(r *http.Request, c *claim) (time.Time, string, string, error) {
	if c.presigned {
		t, ok := parseAmzDate(c.queryDate)
		if !ok {
			return time.Time{}, "", "", badAmzDate(c.queryDate)
		}
		return t, c.queryDate, "", nil
	}
	if vals := r.Header.Values("X-Amz-Date"); len(vals) > 0 {
		raw := strings.TrimSpace(strings.Join(vals, ","))
		t, ok := parseAmzDate(raw)
		if !ok {
			return time.Time{}, "", "", badAmzDate(raw)
		}
		return t, raw, "x-amz-date", nil
	}
	if vals := r.Header.Values("Date"); len(vals) > 0 {
		raw := strings.TrimSpace(strings.Join(vals, ","))
		t, err := http.ParseTime(raw)
		if err != nil {
			return time.Time{}, "", "", incomplete("Date must be in RFC 1123 format. Got '%s'.", echo(raw))
		}
		t = t.UTC()
		return t, t.Format(amzDateLayout), "date", nil
	}
	return time.Time{}, "", "", incomplete(msgNoDate)
}

func badAmzDate(raw string) error {
	return incomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", echo(raw))
}
