package sigv4

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/apierr"
)

// AWS's texts, written out here independently of the package's constants.
const (
	wantMismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	wantBadToken = "The security token included in the request is invalid."
)

// rewriteAuth replaces one "Key=value" component of r's Authorization header.
func rewriteAuth(r *http.Request, key, value string) {
	h := r.Header.Get("Authorization")
	alg, rest, _ := strings.Cut(h, " ")
	parts := strings.Split(rest, ", ")
	out := parts[:0]
	for _, p := range parts {
		if strings.HasPrefix(p, key+"=") {
			if value == "<drop>" {
				continue
			}
			p = key + "=" + value
		}
		out = append(out, p)
	}
	r.Header.Set("Authorization", alg+" "+strings.Join(out, ", "))
}

func credentialWith(t *testing.T, r *http.Request, i int, v string) string {
	t.Helper()
	c, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		t.Fatalf("parse: got %v, want nil", err)
	}
	parts := []string{c.accessKeyID, c.date, c.region, c.service, terminator}
	parts[i] = v
	return strings.Join(parts, "/")
}

func TestVerifyErrors(t *testing.T) {
	const body = `{"cluster":"default"}`
	cases := []struct {
		name     string
		opts     signOpts
		mutate   func(t *testing.T, r *http.Request) // after signing
		verifier func(v *Verifier)
		body     string // body handed to Verify; default body
		now      time.Time
		code     string
		msg      string // exact; "" means check only the code
	}{
		{name: "no Authorization header",
			mutate: func(t *testing.T, r *http.Request) { r.Header.Del("Authorization") },
			code:   apierr.MissingAuthenticationToken, msg: "Missing Authentication Token"},
		{name: "blank Authorization header",
			mutate: func(t *testing.T, r *http.Request) { r.Header.Set("Authorization", "   ") },
			code:   apierr.MissingAuthenticationToken, msg: "Missing Authentication Token"},
		{name: "tampered body", body: `{"cluster":"prod"}`,
			code: apierr.InvalidSignature, msg: wantMismatch},
		{name: "tampered signed header",
			mutate: func(t *testing.T, r *http.Request) {
				r.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DeleteCluster")
			},
			code: apierr.InvalidSignature, msg: wantMismatch},
		{name: "tampered host",
			mutate: func(t *testing.T, r *http.Request) { r.Host = "evil.example:8080" },
			code:   apierr.InvalidSignature, msg: wantMismatch},
		{name: "tampered path",
			mutate: func(t *testing.T, r *http.Request) { r.RequestURI = "/other" },
			code:   apierr.InvalidSignature, msg: wantMismatch},
		{name: "tampered method",
			mutate: func(t *testing.T, r *http.Request) { r.Method = http.MethodPut },
			code:   apierr.InvalidSignature, msg: wantMismatch},
		{name: "added query parameter",
			mutate: func(t *testing.T, r *http.Request) { r.URL.RawQuery = "x=1" },
			code:   apierr.InvalidSignature, msg: wantMismatch},
		{name: "wrong secret", opts: signOpts{secret: "not-the-secret"},
			code: apierr.InvalidSignature, msg: wantMismatch},
		{name: "unknown access key", opts: signOpts{key: "AKIDUNKNOWN"},
			code: apierr.UnrecognizedClient, msg: wantBadToken},
		{name: "empty secret counts as unknown",
			verifier: func(v *Verifier) { v.Lookup = func(string) (string, bool) { return "", true } },
			code:     apierr.UnrecognizedClient, msg: wantBadToken},
		{name: "signed session token", opts: signOpts{token: "FwoGZXIvYXdzEXAMPLETOKEN"},
			code: apierr.UnrecognizedClient, msg: wantBadToken},
		{name: "unsigned session token",
			mutate: func(t *testing.T, r *http.Request) { r.Header.Set("X-Amz-Security-Token", "abc") },
			code:   apierr.UnrecognizedClient, msg: wantBadToken},
		{name: "missing Credential",
			mutate: func(t *testing.T, r *http.Request) { rewriteAuth(r, "Credential", "<drop>") },
			code:   apierr.IncompleteSignature, msg: "Authorization header requires 'Credential' parameter."},
		{name: "missing SignedHeaders",
			mutate: func(t *testing.T, r *http.Request) { rewriteAuth(r, "SignedHeaders", "<drop>") },
			code:   apierr.IncompleteSignature, msg: "Authorization header requires 'SignedHeaders' parameter."},
		{name: "missing Signature",
			mutate: func(t *testing.T, r *http.Request) { rewriteAuth(r, "Signature", "") },
			code:   apierr.IncompleteSignature, msg: "Authorization header requires 'Signature' parameter."},
		{name: "missing everything",
			mutate: func(t *testing.T, r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256") },
			code:   apierr.IncompleteSignature,
			msg: "Authorization header requires 'Credential' parameter. " +
				"Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter."},
		{name: "wrong algorithm",
			mutate: func(t *testing.T, r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SHA256", "SHA512", 1))
			},
			code: apierr.IncompleteSignature, msg: "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'."},
		{name: "other scheme",
			mutate: func(t *testing.T, r *http.Request) { r.Header.Set("Authorization", "Bearer abc") },
			code:   apierr.IncompleteSignature, msg: "Unsupported AWS 'algorithm': 'Bearer'."},
		{name: "pair without equal sign",
			mutate: func(t *testing.T, r *http.Request) {
				r.Header.Set("Authorization", r.Header.Get("Authorization")+", Oops")
			},
			code: apierr.IncompleteSignature,
			msg:  "'Oops' not a valid key=value pair (missing equal-sign) in Authorization header."},
		{name: "duplicate parameter",
			mutate: func(t *testing.T, r *http.Request) {
				r.Header.Set("Authorization", r.Header.Get("Authorization")+", Signature=00")
			},
			code: apierr.IncompleteSignature, msg: "Authorization header has a duplicate 'Signature' parameter."},
		{name: "two Authorization headers",
			mutate: func(t *testing.T, r *http.Request) {
				r.Header.Add("Authorization", r.Header.Get("Authorization"))
			},
			code: apierr.IncompleteSignature, msg: "Only one 'Authorization' header is allowed."},
		{name: "header and query signature",
			mutate: func(t *testing.T, r *http.Request) { r.URL.RawQuery = "X-Amz-Signature=00" },
			code:   apierr.IncompleteSignature,
			msg: "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter " +
				"or the Authorization header should be specified."},
		{name: "scope with four elements",
			mutate: func(t *testing.T, r *http.Request) {
				rewriteAuth(r, "Credential", testKey+"/20260501/us-east-1/ecs")
			},
			code: apierr.IncompleteSignature,
			msg: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, " +
				"got '" + testKey + "/20260501/us-east-1/ecs'"},
		{name: "scope with wrong terminator",
			mutate: func(t *testing.T, r *http.Request) {
				rewriteAuth(r, "Credential", testKey+"/20260501/us-east-1/ecs/aws4_reqest")
			},
			code: apierr.IncompleteSignature,
			msg:  "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reqest'."},
		{name: "host not signed",
			mutate: func(t *testing.T, r *http.Request) {
				rewriteAuth(r, "SignedHeaders", "content-length;content-type;x-amz-date;x-amz-target")
			},
			code: apierr.IncompleteSignature,
			msg:  "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "x-amz-date not signed",
			mutate: func(t *testing.T, r *http.Request) {
				rewriteAuth(r, "SignedHeaders", "content-length;content-type;host;x-amz-target")
			},
			code: apierr.IncompleteSignature,
			msg:  "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "signed header absent from request",
			mutate: func(t *testing.T, r *http.Request) { r.Header.Del("X-Amz-Target") },
			code:   apierr.IncompleteSignature,
			msg:    "'x-amz-target' is listed in SignedHeaders but the request has no such header."},
		{name: "empty signed header name",
			mutate: func(t *testing.T, r *http.Request) {
				rewriteAuth(r, "SignedHeaders", "content-length;content-type;host;;x-amz-date;x-amz-target")
			},
			code: apierr.IncompleteSignature,
			msg:  "'' is listed in SignedHeaders but the request has no such header."},
		{name: "no date header",
			mutate: func(t *testing.T, r *http.Request) { r.Header.Del("X-Amz-Date") },
			code:   apierr.IncompleteSignature,
			msg:    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{name: "malformed X-Amz-Date",
			mutate: func(t *testing.T, r *http.Request) { r.Header.Set("X-Amz-Date", "2026-05-01T12:00:00Z") },
			code:   apierr.IncompleteSignature,
			msg: "Date must be in ISO-8601 'basic format'. Got '2026-05-01T12:00:00Z'. " +
				"See http://en.wikipedia.org/wiki/ISO_8601"},
		{name: "fractional X-Amz-Date",
			mutate: func(t *testing.T, r *http.Request) { r.Header.Set("X-Amz-Date", "20260501T120000.5Z") },
			code:   apierr.IncompleteSignature},
		{name: "malformed Date header",
			mutate: func(t *testing.T, r *http.Request) {
				r.Header.Del("X-Amz-Date")
				r.Header.Set("Date", "yesterday")
			},
			code: apierr.IncompleteSignature, msg: "Date must be in RFC 1123 format. Got 'yesterday'."},
		{name: "expired (5 min.)", now: t0.Add(5*time.Minute + time.Second),
			code: apierr.InvalidSignature,
			msg:  "Signature expired: 20260501T120000Z is now earlier than 20260501T120001Z (20260501T120501Z - 5 min.)"},
		{name: "not yet current (5 min.)", now: t0.Add(-5*time.Minute - time.Second),
			code: apierr.InvalidSignature,
			msg:  "Signature not yet current: 20260501T120000Z is still later than 20260501T115959Z (20260501T115459Z + 5 min.)"},
		{name: "expired (15 min.)", now: t0.Add(time.Hour),
			verifier: func(v *Verifier) { v.MaxSkew = 15 * time.Minute },
			code:     apierr.InvalidSignature,
			msg:      "Signature expired: 20260501T120000Z is now earlier than 20260501T124500Z (20260501T130000Z - 15 min.)"},
		{name: "not yet current (15 min.)", now: t0.Add(-time.Hour),
			verifier: func(v *Verifier) { v.MaxSkew = 15 * time.Minute },
			code:     apierr.InvalidSignature,
			msg:      "Signature not yet current: 20260501T120000Z is still later than 20260501T111500Z (20260501T110000Z + 15 min.)"},
		{name: "scope date differs from request date",
			mutate: func(t *testing.T, r *http.Request) {
				rewriteAuth(r, "Credential", credentialWith(t, r, 1, "20260430"))
			},
			code: apierr.InvalidSignature,
			msg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: " +
				"'20260430' != '20260501', from '20260501T120000Z'."},
		{name: "wrong service", opts: signOpts{service: "sts"},
			code: apierr.InvalidSignature, msg: "Credential should be scoped to correct service: 'ecs'."},
		{name: "invalid region", opts: signOpts{region: "us:east"},
			code: apierr.InvalidSignature, msg: "Credential should be scoped to a valid region, not 'us:east'."},
		{name: "another region than the server's", opts: signOpts{region: "eu-west-1"},
			verifier: func(v *Verifier) { v.Region = "us-east-1" },
			code:     apierr.InvalidSignature, msg: "Credential should be scoped to a valid region, not 'eu-west-1'."},
		{name: "content sha256 for another body",
			opts: signOpts{payloadHash: sha256Hex([]byte(`{"cluster":"prod"}`))},
			code: apierr.InvalidSignature,
			msg:  "The provided 'x-amz-content-sha256' header does not match what was computed."},
		{name: "UNSIGNED-PAYLOAD in a header signature", opts: signOpts{payloadHash: "UNSIGNED-PAYLOAD"},
			code: apierr.InvalidSignature,
			msg:  "The provided 'x-amz-content-sha256' header does not match what was computed."},
		{name: "verifier without Service",
			verifier: func(v *Verifier) { v.Service = "" },
			code:     apierr.Server},
		{name: "verifier without Lookup",
			verifier: func(v *Verifier) { v.Lookup = nil },
			code:     apierr.Server},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ecsRequest("http://localhost:8080/", "", body)
			// A custom payload hash is announced the way S3-style clients do.
			if tc.opts.payloadHash != "" {
				r.Header.Set("X-Amz-Content-Sha256", tc.opts.payloadHash)
			}
			sdkSign(t, r, []byte(body), tc.opts)
			if tc.mutate != nil {
				tc.mutate(t, r)
			}
			v := testVerifier()
			if tc.verifier != nil {
				tc.verifier(v)
			}
			b, now := tc.body, tc.now
			if b == "" {
				b = body
			}
			if now.IsZero() {
				now = t0
			}
			id, err := v.Verify(r, []byte(b), now)
			if err == nil {
				t.Fatalf("Verify: got %v, nil error, want %v", id, tc.code)
			}
			e, ok := apierr.As(err)
			if !ok {
				t.Fatalf("error type: got %T, want *apierr.Error", err)
			}
			if e.Code != tc.code {
				t.Errorf("code: got %v, want %v (message %q)", e.Code, tc.code, e.Message)
			}
			if tc.msg != "" && e.Message != tc.msg {
				t.Errorf("message: got %v, want %v", e.Message, tc.msg)
			}
			if got := e.Status(); tc.code != apierr.Server && got != http.StatusBadRequest {
				t.Errorf("status: got %v, want %v", got, http.StatusBadRequest)
			}
		})
	}
}

// A request whose time comes from the Date header must sign "date".
func TestDateHeaderMustBeSigned(t *testing.T) {
	r := ecsRequest("http://localhost:8080/", "", "{}")
	sdkSign(t, r, []byte("{}"), signOpts{})
	r.Header.Del("X-Amz-Date")
	r.Header.Set("Date", t0.Format(http.TimeFormat))
	rewriteAuth(r, "SignedHeaders", "content-length;content-type;host;x-amz-target")
	_, err := testVerifier().Verify(r, []byte("{}"), t0)
	e, _ := apierr.As(err)
	if e == nil || e.Message != "'Date' must be a 'SignedHeader' in the AWS Authorization." {
		t.Errorf("got %v, want IncompleteSignatureException about 'Date'", err)
	}
}
