package sdkhttp

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type recorder struct{ body io.ReadCloser }

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.body = req.Body
	return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
}

// eofWriterTo is a body like the SDK's after it is closed: WriteTo fails.
type eofWriterTo struct{ io.ReadCloser }

func (eofWriterTo) WriteTo(io.Writer) (int64, error) { return 0, io.EOF }

func TestDoHidesWriteTo(t *testing.T) {
	rec := &recorder{}
	c := Client{rec}
	req, _ := http.NewRequest(http.MethodPost, "http://example.invalid/", nil)
	req.Body = eofWriterTo{io.NopCloser(strings.NewReader("payload"))}
	if _, err := c.Do(req); err != nil {
		t.Fatal(err)
	}
	if _, ok := rec.body.(io.WriterTo); ok {
		t.Fatalf("the body passed on still implements io.WriterTo")
	}
	b, err := io.ReadAll(rec.body)
	if err != nil || string(b) != "payload" {
		t.Fatalf("body read %q, %v; want the payload", b, err)
	}
}

func TestDoSendsRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(bytes.ToUpper(b))
	}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("hello"))
	resp, err := New().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "HELLO" {
		t.Fatalf("got %q, want HELLO", b)
	}
	// A request without a body passes unchanged.
	req, _ = http.NewRequest(http.MethodGet, srv.URL, nil)
	if resp, err := New().Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
}
