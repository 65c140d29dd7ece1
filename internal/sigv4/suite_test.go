package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/apierr"
)

// The AWS suite's credentials (published with the suite).
const (
	suiteKey    = "AKIDEXAMPLE"
	suiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

type vector struct {
	name                  string
	req, creq, sts, authz string
	request               *http.Request
	body                  []byte
}

func loadVectors(t *testing.T, dir string) []vector {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("testdata", dir))
	if err != nil {
		t.Fatalf("read testdata: got %v, want nil", err)
	}
	var out []vector
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n := e.Name()
		read := func(ext string) string {
			b, err := os.ReadFile(filepath.Join("testdata", dir, n, n+"."+ext))
			if err != nil {
				t.Fatalf("%s: got %v, want nil", n, err)
			}
			return string(b)
		}
		v := vector{name: n, req: read("req"), creq: read("creq"), sts: read("sts"), authz: read("authz")}
		v.request, v.body = parseSuiteRequest(t, v.req)
		out = append(out, v)
	}
	if len(out) == 0 {
		t.Fatalf("vectors in %s: got 0, want some", dir)
	}
	return out
}

// parseSuiteRequest turns a suite .req file into a request as net/http's
// server would present it: Host promoted to Request.Host, RequestURI as sent.
// Header values keep their raw spacing so trimming is exercised.
func parseSuiteRequest(t *testing.T, raw string) (*http.Request, []byte) {
	t.Helper()
	head, body, _ := strings.Cut(raw, "\n\n")
	lines := strings.Split(head, "\n")
	first := lines[0]
	method, rest, _ := strings.Cut(first, " ")
	uri := rest[:strings.LastIndex(rest, " ")]
	path, query, _ := strings.Cut(uri, "?")
	r := &http.Request{
		Method:        method,
		RequestURI:    uri,
		URL:           &url.URL{Path: path, RawQuery: query},
		Header:        http.Header{},
		ContentLength: int64(len(body)),
		Body:          io.NopCloser(strings.NewReader(body)),
	}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("header line %q: got no colon, want name:value", l)
		}
		if strings.EqualFold(k, "host") {
			r.Host = v
			continue
		}
		r.Header.Add(k, v)
	}
	return r, []byte(body)
}

func suiteVerifier(service string) *Verifier {
	return &Verifier{Service: service, Lookup: func(id string) (string, bool) {
		return suiteSecret, id == suiteKey
	}}
}

func checkVector(t *testing.T, v vector, service string, at time.Time) {
	t.Helper()
	r := v.request
	r.Header.Set("Authorization", v.authz)

	// The published canonical request must be one we build, and its string
	// to sign must be the published one.
	c, err := parseAuthorization(v.authz)
	if err != nil {
		t.Fatalf("parse: got %v, want nil", err)
	}
	_, stamp, _, err := requestTime(r, c)
	if err != nil {
		t.Fatalf("time: got %v, want nil", err)
	}
	q := canonicalQuery(parseQuery(r.URL.RawQuery), false)
	headers := canonicalHeaders(r, c.signedHeaders)
	var built []string
	for _, uri := range canonicalURIs(r) {
		built = append(built, canonicalRequest(r.Method, uri, q, headers, c.signedHeadersRaw, hashHex(v.body)))
	}
	found := false
	for _, b := range built {
		found = found || b == v.creq
	}
	if !found {
		t.Errorf("canonical request: got %q, want %q", built, v.creq)
	}
	if got := stringToSign(stamp, c.scope(), v.creq); got != v.sts {
		t.Errorf("string to sign: got %q, want %q", got, v.sts)
	}
	sum := sha256.Sum256([]byte(v.creq))
	if got, want := hex.EncodeToString(sum[:]), v.sts[strings.LastIndex(v.sts, "\n")+1:]; got != want {
		t.Errorf("vector self-check, creq hash: got %v, want %v", got, want)
	}

	id, err := suiteVerifier(service).Verify(r, v.body, at)
	if v.name == "post-sts-header-before" {
		// A correct signature over a session token berth never issued.
		if got := apierr.CodeOf(err); got != apierr.UnrecognizedClient {
			t.Errorf("Verify code: got %v, want %v", got, apierr.UnrecognizedClient)
		}
		return
	}
	if err != nil {
		t.Fatalf("Verify: got %v, want nil", err)
	}
	if want := (Identity{AccessKeyID: suiteKey, Region: "us-east-1"}); id != want {
		t.Errorf("identity: got %v, want %v", id, want)
	}

	// Flip one signature digit: the same request must now fail.
	last := "0"
	if strings.HasSuffix(v.authz, "0") {
		last = "1"
	}
	bad := v.authz[:len(v.authz)-1] + last
	r.Header.Set("Authorization", bad)
	_, err = suiteVerifier(service).Verify(r, v.body, at)
	if got := apierr.CodeOf(err); got != apierr.InvalidSignature {
		t.Errorf("tampered signature: got %v, want %v", got, apierr.InvalidSignature)
	}
}

func TestAWSSuite2015(t *testing.T) {
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	for _, v := range loadVectors(t, "aws4_testsuite") {
		t.Run(v.name, func(t *testing.T) { checkVector(t, v, "service", at) })
	}
}

// The 2011 suite signs the Date header instead of X-Amz-Date.
func TestAWSSuite2011DateHeader(t *testing.T) {
	at := time.Date(2011, 9, 9, 23, 36, 0, 0, time.UTC)
	for _, v := range loadVectors(t, "aws4_testsuite_2011") {
		t.Run(v.name, func(t *testing.T) { checkVector(t, v, "host", at) })
	}
}

// botocore (the AWS CLI) never signs content-length; a Content-Length header
// on the wire that is not in SignedHeaders must not matter.
func TestSuiteUnsignedContentLength(t *testing.T) {
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	for _, v := range loadVectors(t, "aws4_testsuite") {
		if v.name != "post-x-www-form-urlencoded" {
			continue
		}
		r := v.request
		r.Header.Set("Authorization", v.authz)
		for _, cl := range []string{"13", "999"} {
			r.Header.Set("Content-Length", cl)
			if _, err := suiteVerifier("service").Verify(r, v.body, at); err != nil {
				t.Errorf("Content-Length %s: got %v, want nil", cl, err)
			}
		}
		return
	}
	t.Fatalf("post-x-www-form-urlencoded: got missing, want present")
}
