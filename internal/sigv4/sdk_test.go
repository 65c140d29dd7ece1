package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testKey    = "AKIDBERTHTEST0000001"
	testSecret = "berthTestSecret/with+special=chars"
	ecsTarget  = "AmazonEC2ContainerServiceV20141113.ListClusters"
)

// t0 is when test requests are signed.
var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func testVerifier() *Verifier {
	return &Verifier{Service: "ecs", Lookup: func(id string) (string, bool) {
		if id == testKey {
			return testSecret, true
		}
		return "", false
	}}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// ecsRequest builds an ECS-style call the way aws-sdk-go-v2 sends it.
// target is an absolute URL or a path (then host sets Request.Host).
func ecsRequest(target, host, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if host != "" {
		r.Host = host
	}
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", ecsTarget)
	r.Header.Set("Amz-Sdk-Invocation-Id", "3f1c4a52-8a6e-4d0f-9a55-1f1b2c3d4e5f")
	r.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	r.Header.Set("User-Agent", "aws-sdk-go-v2/1.47.7 os/linux lang/go#1.26")
	return r
}

type signOpts struct {
	key, secret, token, service, region string
	at                                  time.Time
	payloadHash                         string // default: sha256 of body
}

// sdkSign signs r with the real aws-sdk-go-v2 SigV4 signer.
func sdkSign(t testing.TB, r *http.Request, body []byte, o signOpts) {
	t.Helper()
	if o.key == "" {
		o.key = testKey
	}
	if o.secret == "" {
		o.secret = testSecret
	}
	if o.service == "" {
		o.service = "ecs"
	}
	if o.region == "" {
		o.region = "us-east-1"
	}
	if o.at.IsZero() {
		o.at = t0
	}
	if o.payloadHash == "" {
		o.payloadHash = sha256Hex(body)
	}
	creds := aws.Credentials{AccessKeyID: o.key, SecretAccessKey: o.secret, SessionToken: o.token}
	err := v4.NewSigner().SignHTTP(context.Background(), creds, r, o.payloadHash, o.service, o.region, o.at)
	if err != nil {
		t.Fatalf("SignHTTP: got %v, want nil", err)
	}
}

// signedHeadersOf returns the SignedHeaders list of r's Authorization header.
func signedHeadersOf(t *testing.T, r *http.Request) string {
	t.Helper()
	c, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		t.Fatalf("parse Authorization: got %v, want nil", err)
	}
	return c.signedHeadersRaw
}

func TestSDKSignedECSRequests(t *testing.T) {
	cases := []struct {
		name, target, host, region, body string
	}{
		{"root", "http://localhost/", "", "us-east-1", `{}`},
		{"non-default port", "http://berth.example:8443/", "", "eu-west-3", `{"maxResults":10}`},
		{"base path", "https://berth.example:8443/berth/api", "", "us-west-2", `{"cluster":"default"}`},
		{"base path trailing slash", "http://127.0.0.1:4566/berth/", "", "local", `{}`},
		{"escaped base path", "http://berth.example:8080/base%20path/v1%2Fx", "", "ap-south-1", `{}`},
		{"path-form request URI", "/berth/api", "berth.example:9000", "eu-central-1", `{"clusters":["a b"]}`},
		{"IPv6 host", "/", "[::1]:8080", "us-east-1", `{}`},
		{"unicode body", "/", "localhost:8080", "us-east-1", `{"tags":[{"key":"k","value":"ünïcødé ✓"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			r := ecsRequest(tc.target, tc.host, tc.body)
			sdkSign(t, r, body, signOpts{region: tc.region})

			want := "amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-target"
			if got := signedHeadersOf(t, r); got != want {
				t.Fatalf("SignedHeaders: got %v, want %v", got, want)
			}
			id, err := testVerifier().Verify(r, body, t0.Add(90*time.Second))
			if err != nil {
				t.Fatalf("Verify: got %v, want nil", err)
			}
			if want := (Identity{AccessKeyID: testKey, Region: tc.region}); id != want {
				t.Errorf("identity: got %v, want %v", id, want)
			}
		})
	}
}

// botocore signs content-type;host;x-amz-date;x-amz-target and never
// content-length. The Go signer leaves content-length out when it does not
// know the length, which reproduces that header set with an independent signer.
func TestBotocoreStyleSignedHeaders(t *testing.T) {
	body := []byte(`{"cluster": "default", "maxResults": 10}`)
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
	r.Host = "localhost:8080"
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", ecsTarget)
	r.ContentLength = -1
	sdkSign(t, r, body, signOpts{})
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", "40")
	r.Header.Set("User-Agent", "aws-cli/2.9.19 Python/3.11.2 Linux botocore/2.9.19")

	if got, want := signedHeadersOf(t, r), "content-type;host;x-amz-date;x-amz-target"; got != want {
		t.Fatalf("SignedHeaders: got %v, want %v", got, want)
	}
	if _, err := testVerifier().Verify(r, body, t0); err != nil {
		t.Fatalf("Verify: got %v, want nil", err)
	}
	// content-length is not signed, so it may say anything.
	r.Header.Set("Content-Length", "7")
	if _, err := testVerifier().Verify(r, body, t0); err != nil {
		t.Errorf("Verify with other Content-Length: got %v, want nil", err)
	}
	// The body itself is still covered by the payload hash.
	if _, err := testVerifier().Verify(r, []byte(`{"cluster": "other"}`), t0); err == nil {
		t.Errorf("Verify with other body: got nil, want error")
	}
}

// Headers outside SignedHeaders may change or appear without effect.
func TestUnsignedHeaderChangesAllowed(t *testing.T) {
	body := []byte(`{}`)
	r := ecsRequest("http://localhost:8080/", "", string(body))
	sdkSign(t, r, body, signOpts{})
	r.Header.Set("User-Agent", "something-else/1.0")
	r.Header.Set("X-Forwarded-For", "10.1.2.3")
	r.Header.Set("X-Amzn-Trace-Id", "Root=1-abc")
	r.Header.Add("Accept-Encoding", "gzip")
	if _, err := testVerifier().Verify(r, body, t0); err != nil {
		t.Fatalf("Verify: got %v, want nil", err)
	}
}

// A signed X-Amz-Content-Sha256 that matches the body is accepted.
func TestSignedContentSha256(t *testing.T) {
	body := []byte(`{"services":["web"]}`)
	r := ecsRequest("http://localhost:8080/", "", string(body))
	r.Header.Set("X-Amz-Content-Sha256", sha256Hex(body))
	sdkSign(t, r, body, signOpts{})
	if !strings.Contains(signedHeadersOf(t, r), "x-amz-content-sha256") {
		t.Fatalf("SignedHeaders: got %v, want x-amz-content-sha256 in it", signedHeadersOf(t, r))
	}
	if _, err := testVerifier().Verify(r, body, t0); err != nil {
		t.Fatalf("Verify: got %v, want nil", err)
	}
}

func TestMaxSkewBoundaries(t *testing.T) {
	body := []byte(`{}`)
	for _, skew := range []time.Duration{0, 15 * time.Minute} {
		v := testVerifier()
		v.MaxSkew = skew
		window := skew
		if window == 0 {
			window = 5 * time.Minute
		}
		for _, now := range []time.Time{t0.Add(window), t0.Add(-window), t0} {
			r := ecsRequest("http://localhost/", "", string(body))
			sdkSign(t, r, body, signOpts{})
			if _, err := v.Verify(r, body, now); err != nil {
				t.Errorf("skew %v, now %v: got %v, want nil", skew, now, err)
			}
		}
	}
}
