package iamapi

import (
	"net/url"
	"strings"
	"testing"
)

// Policy documents are URL-encoded as IAM returns them: spaces as %20,
// and the SDK's users url.QueryUnescape them back.
func TestEncodeDocument(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::a b/+"}}`
	enc := encodeDocument(doc)
	if strings.ContainsAny(enc, `{}":+ `) || !strings.HasPrefix(enc, "%7B%22Version%22%3A") {
		t.Fatalf("encoded %q", enc)
	}
	if back, err := url.QueryUnescape(enc); err != nil || back != doc {
		t.Fatalf("round trip: %q %v", back, err)
	}
}

func TestPaging(t *testing.T) {
	items := []string{"a", "b", "c", "d", "e"}
	var got []string
	var marker *string
	for range 10 {
		p, more, next, err := page(items, func(s string) string { return s }, marker, ptr(int32(2)))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p...)
		if !more {
			if next != nil {
				t.Fatal("a marker on the last page")
			}
			break
		}
		marker = next
	}
	if strings.Join(got, "") != "abcde" {
		t.Fatalf("pages: %v", got)
	}
	for _, bad := range []int32{0, 1001} {
		if _, _, _, err := page(items, func(s string) string { return s }, nil, ptr(bad)); err == nil {
			t.Errorf("MaxItems %d accepted", bad)
		}
	}
	if _, _, _, err := page(items, func(s string) string { return s }, ptr("%%%"), nil); err == nil {
		t.Error("a bad marker accepted")
	}
}

func TestRoleNames(t *testing.T) {
	for _, ok := range []string{"a", "app-role_1+=,.@", strings.Repeat("x", 64)} {
		if _, err := roleName(&ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "a/b", strings.Repeat("x", 65), "é"} {
		if _, err := roleName(&bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, p := range []string{"/", "/a/", "/a/b/"} {
		if _, err := checkPath(&p, "path"); err != nil {
			t.Errorf("path %q refused", p)
		}
	}
	for _, p := range []string{"", "a", "/a", "a/", "/a b/"} {
		if _, err := checkPath(&p, "path"); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
}
