package taskhttp

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAWSPassThrough checks that requests for / go to Config.AWS, with
// any method, and nothing else does; without it / is not served.
func TestAWSPassThrough(t *testing.T) {
	var got []string
	aws := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+string(b))
		w.WriteHeader(http.StatusTeapot)
	})
	s := New(Config{Key: []byte("k"), AWS: aws})
	s.AddTask(arnA, []string{"app"}, false)
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{http.MethodPost, "/", "Action=GetCallerIdentity&Version=2011-06-15", http.StatusTeapot},
		{http.MethodGet, "/", "", http.StatusTeapot},
		{http.MethodPost, "/v4/" + s.MetadataID(arnA, "app"), "", http.StatusMethodNotAllowed},
		{http.MethodGet, "/v4/" + s.MetadataID(arnA, "app"), "", http.StatusOK},
		{http.MethodGet, "/v2/credentials/x", "", http.StatusNotFound},
	} {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(c.method, c.path, strings.NewReader(c.body)))
		if w.Code != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, w.Code, c.want)
		}
	}
	if want := []string{"POST / Action=GetCallerIdentity&Version=2011-06-15", "GET / "}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("the AWS handler got %q, want %q", got, want)
	}
	w := httptest.NewRecorder()
	New(Config{Key: []byte("k")}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("GET / without an AWS handler: %d, want 404", w.Code)
	}
}
