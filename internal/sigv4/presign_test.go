package sigv4

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"berth.dev/berth/internal/apierr"
)

// presigned returns a server-side view of a request presigned by the real
// aws-sdk-go-v2 signer. query is added before signing (X-Amz-Expires goes
// there, as the signer documents).
func presigned(t *testing.T, method, target, query, payloadHash, token string, body []byte) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(string(body)))
	r.URL.RawQuery = query
	creds := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret, SessionToken: token}
	signedURL, headers, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, payloadHash, "ecs", "eu-west-1", t0)
	if err != nil {
		t.Fatalf("PresignHTTP: got %v, want nil", err)
	}
	u, err := url.Parse(signedURL)
	if err != nil {
		t.Fatalf("parse presigned URL: got %v, want nil", err)
	}
	s := httptest.NewRequest(method, u.RequestURI(), strings.NewReader(string(body)))
	s.Host = u.Host
	for k, vs := range headers {
		if strings.EqualFold(k, "Host") {
			continue
		}
		for _, v := range vs {
			s.Header.Add(k, v)
		}
	}
	return s
}

func TestPresigned(t *testing.T) {
	empty := sha256Hex(nil)
	r := presigned(t, http.MethodGet, "https://berth.example:8443/base/?Action=GetCallerIdentity&Version=2011-06-15",
		"Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=90", empty, "", nil)
	if got := r.URL.Query().Get("X-Amz-Signature"); len(got) != 64 {
		t.Fatalf("X-Amz-Signature: got %q, want 64 hex digits", got)
	}
	for _, now := range []time.Time{t0, t0.Add(90 * time.Second), t0.Add(-5 * time.Minute)} {
		id, err := testVerifier().Verify(r, nil, now)
		if err != nil {
			t.Fatalf("Verify at %v: got %v, want nil", now, err)
		}
		if want := (Identity{AccessKeyID: testKey, Region: "eu-west-1"}); id != want {
			t.Errorf("identity: got %v, want %v", id, want)
		}
	}

	_, err := testVerifier().Verify(r, nil, t0.Add(91*time.Second))
	if got, want := messageOf(err), "Signature expired: 20260501T120000Z is now earlier than 20260501T120001Z (20260501T120131Z - 90 sec.)"; got != want {
		t.Errorf("expired: got %v, want %v", got, want)
	}
	_, err = testVerifier().Verify(r, nil, t0.Add(-5*time.Minute-time.Second))
	if got, want := messageOf(err), "Signature not yet current: 20260501T120000Z is still later than 20260501T115959Z (20260501T115459Z + 5 min.)"; got != want {
		t.Errorf("not yet current: got %v, want %v", got, want)
	}

	tampered := r.Clone(context.Background())
	tampered.URL.RawQuery = strings.Replace(r.URL.RawQuery, "GetCallerIdentity", "AssumeRole", 1)
	tampered.RequestURI = tampered.URL.RequestURI()
	_, err = testVerifier().Verify(tampered, nil, t0)
	if got := apierr.CodeOf(err); got != apierr.InvalidSignature {
		t.Errorf("tampered query: got %v, want %v", got, apierr.InvalidSignature)
	}
	_, err = testVerifier().Verify(r, []byte("x"), t0)
	if got := apierr.CodeOf(err); got != apierr.InvalidSignature {
		t.Errorf("body under a signed empty payload: got %v, want %v", got, apierr.InvalidSignature)
	}
}

func TestPresignedUnsignedPayload(t *testing.T) {
	body := []byte(`{"cluster":"default"}`)
	r := presigned(t, http.MethodPost, "http://localhost:8080/", "X-Amz-Expires=300", "UNSIGNED-PAYLOAD", "", body)
	if _, err := testVerifier().Verify(r, body, t0); err != nil {
		t.Fatalf("Verify: got %v, want nil", err)
	}
}

func TestPresignedErrors(t *testing.T) {
	empty := sha256Hex(nil)
	base := presigned(t, http.MethodGet, "http://localhost:8080/", "X-Amz-Expires=60", empty, "", nil)
	withQuery := func(edit func(q url.Values)) *http.Request {
		r := base.Clone(context.Background())
		q := r.URL.Query()
		edit(q)
		r.URL.RawQuery = q.Encode()
		r.RequestURI = r.URL.RequestURI()
		return r
	}
	cases := []struct {
		name string
		r    *http.Request
		code string
		msg  string
	}{
		{"token", presigned(t, http.MethodGet, "http://localhost:8080/", "X-Amz-Expires=60", empty, "SESSIONTOKEN", nil),
			apierr.UnrecognizedClient, wantBadToken},
		{"no expires", presigned(t, http.MethodGet, "http://localhost:8080/", "", empty, "", nil),
			apierr.IncompleteSignature,
			"AWS query-string parameters must include 'X-Amz-Expires'. Re-examine the query-string parameters."},
		{"expires zero", withQuery(func(q url.Values) { q.Set("X-Amz-Expires", "0") }),
			apierr.IncompleteSignature, "X-Amz-Expires must be a whole number of seconds from 1 to 604800, not '0'."},
		{"expires too long", withQuery(func(q url.Values) { q.Set("X-Amz-Expires", "604801") }),
			apierr.IncompleteSignature, "X-Amz-Expires must be a whole number of seconds from 1 to 604800, not '604801'."},
		{"missing signature and credential", withQuery(func(q url.Values) { q.Del("X-Amz-Signature"); q.Del("X-Amz-Credential") }),
			apierr.IncompleteSignature,
			"AWS query-string parameters must include 'X-Amz-Credential'. " +
				"AWS query-string parameters must include 'X-Amz-Signature'. Re-examine the query-string parameters."},
		{"duplicate signature", withQuery(func(q url.Values) { q.Add("X-Amz-Signature", "00") }),
			apierr.IncompleteSignature, "AWS query-string parameter 'X-Amz-Signature' must appear only once."},
		{"wrong algorithm", withQuery(func(q url.Values) { q.Set("X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256") }),
			apierr.IncompleteSignature, "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'."},
		{"host not signed", withQuery(func(q url.Values) { q.Set("X-Amz-SignedHeaders", "x-amz-date") }),
			apierr.IncompleteSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{"wrong signature", withQuery(func(q url.Values) { q.Set("X-Amz-Signature", strings.Repeat("0", 64)) }),
			apierr.InvalidSignature, wantMismatch},
		{"longer expiry than signed", withQuery(func(q url.Values) { q.Set("X-Amz-Expires", "3600") }),
			apierr.InvalidSignature, wantMismatch},
	}
	if _, err := testVerifier().Verify(base, nil, t0); err != nil {
		t.Fatalf("base request: got %v, want nil", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := testVerifier().Verify(tc.r, nil, t0)
			if got := apierr.CodeOf(err); got != tc.code {
				t.Errorf("code: got %v, want %v (%v)", got, tc.code, err)
			}
			if got := messageOf(err); got != tc.msg {
				t.Errorf("message: got %v, want %v", got, tc.msg)
			}
		})
	}
}

func messageOf(err error) string {
	if e, ok := apierr.As(err); ok {
		return e.Message
	}
	return ""
}
