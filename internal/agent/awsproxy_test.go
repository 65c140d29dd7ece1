package agent

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"

	"berth.dev/berth/internal/shape"
)

// TestAWSProxy checks that the pass-through keeps the request as the
// client signed it (method, path, Host, body, headers) and answers a JSON
// 502 when the server cannot be reached.
func TestAWSProxy(t *testing.T) {
	type seen struct{ method, path, host, body, target, auth, fwd string }
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.Path, r.Host, string(b), r.Header.Get("X-Amz-Target"), r.Header.Get("Authorization"), r.Header.Get("X-Forwarded-For")}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{"Parameter":{}}`))
	}))
	defer srv.Close()
	p, err := newAWSProxy(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "http://169.254.170.2/", strings.NewReader(`{"Name":"/app/x"}`))
	req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=ASIA/20261206/us-east-1/ssm/aws4_request, SignedHeaders=host, Signature=00")
	req.RemoteAddr = "10.1.2.3:40000"
	w := httptest.NewRecorder()
	p.ServeHTTP(w, req)
	if w.Code != http.StatusOK || w.Body.String() != `{"Parameter":{}}` {
		t.Fatalf("answer %d %s", w.Code, w.Body)
	}
	s := <-got
	if s.method != http.MethodPost || s.path != "/" || s.host != "169.254.170.2" || s.body != `{"Name":"/app/x"}` ||
		s.target != "AmazonSSM.GetParameter" || !strings.HasPrefix(s.auth, "AWS4-HMAC-SHA256 ") || s.fwd != "10.1.2.3" {
		t.Fatalf("the server saw %+v", s)
	}

	srv.Close()
	w = httptest.NewRecorder()
	p.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "http://169.254.170.2/", strings.NewReader("{}")))
	if w.Code != http.StatusBadGateway || !strings.Contains(w.Body.String(), "ServiceUnavailableException") {
		t.Fatalf("unreachable server: %d %s", w.Code, w.Body)
	}
}

// TestTaskEndpoint_AWSEndpointEnv checks AWS_ENDPOINT_URL: set with
// TaskAWSEndpoint unless the definition sets it, absent without.
func TestTaskEndpoint_AWSEndpointEnv(t *testing.T) {
	for _, on := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			h := newHost(t)
			h.cfg.TaskEndpoint, h.cfg.TaskAWSEndpoint = true, on
			ta := h.start()
			plain := app(1, "img")
			own := app(2, "img")
			own.Definition.ContainerDefinitions[0].Environment = []shape.KeyValuePair{{Name: ptr("AWS_ENDPOINT_URL"), Value: ptr("http://mine:4566")}}
			h.srv.run(plain)
			h.srv.run(own)
			ta.settle()
			want := ""
			if on {
				want = "http://169.254.170.2"
			}
			if v := envValue(h.containersOf(plain.TaskArn)[0].Env, "AWS_ENDPOINT_URL"); v != want {
				t.Errorf("TaskAWSEndpoint %v: AWS_ENDPOINT_URL %q, want %q", on, v, want)
			}
			if v := envValue(h.containersOf(own.TaskArn)[0].Env, "AWS_ENDPOINT_URL"); v != "http://mine:4566" {
				t.Errorf("TaskAWSEndpoint %v: the definition's AWS_ENDPOINT_URL became %q", on, v)
			}
		})
	}
}
