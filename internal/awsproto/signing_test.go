package awsproto

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzSigningName: any Authorization header or presigned credential parses
// without a panic, to "" or a service name of one path segment.
func FuzzSigningName(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=abc", "")
	f.Add("", "AKID/20260101/us-east-1/ecs/aws4_request")
	f.Add("AWS4-HMAC-SHA256 Credential=", "a/b/c")
	f.Fuzz(func(t *testing.T, auth, cred string) {
		r, err := http.NewRequest(http.MethodPost, "http://berth/?X-Amz-Credential="+url.QueryEscape(cred), nil)
		if err != nil {
			return
		}
		r.Header.Set("Authorization", auth)
		if svc := SigningName(r); strings.Contains(svc, "/") {
			t.Fatalf("service %q from %q / %q", svc, auth, cred)
		}
	})
}
