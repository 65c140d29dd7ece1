package nodestream

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestReadLinesDeliversEveryLineThenTheEnd(t *testing.T) {
	var got []string
	err := ReadLines(context.Background(), strings.NewReader("a\n\nb\n"), time.Minute, func(l []byte) { got = append(got, string(l)) })
	if strings.Join(got, "|") != "a||b" {
		t.Fatalf("lines %q", got)
	}
	if err == nil || !strings.Contains(err.Error(), "closed by the server") {
		t.Fatalf("end of stream: %v", err)
	}
}

func TestReadLinesEndsOnSilenceAndOnContext(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	go w.Write([]byte("hello\n"))
	var n int
	if err := ReadLines(context.Background(), r, 50*time.Millisecond, func([]byte) { n++ }); !errors.Is(err, ErrSilent) || n != 1 {
		t.Fatalf("silent stream: %v after %d lines", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r2, w2 := io.Pipe()
	defer w2.Close()
	if err := ReadLines(ctx, r2, time.Minute, func([]byte) {}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestSignedAndAPIError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKID/") || !strings.Contains(r.Header.Get("Authorization"), "/us-east-1/ecs/aws4_request") {
			http.Error(w, "unsigned", http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"ClientException","message":"no such node"}`)
	}))
	defer srv.Close()
	req, err := Server{URL: srv.URL, Region: "us-east-1", AccessKeyID: "AKID", SecretAccessKey: "s"}.Signed(context.Background(), "/x", map[string]string{"node": "n"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := APIError(resp); err == nil || err.Error() != "ClientException: no such node" {
		t.Fatalf("APIError = %v", err)
	}
}
