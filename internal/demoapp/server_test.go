package demoapp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

func do(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	return w
}

func TestHealthFailHeal(t *testing.T) {
	h := newServer(false, make(chan int, 1))
	if w := do(t, h, "/health"); w.Code != 200 {
		t.Fatalf("health %d", w.Code)
	}
	do(t, h, "/fail")
	if w := do(t, h, "/health"); w.Code != 500 {
		t.Fatalf("health after fail %d", w.Code)
	}
	do(t, h, "/heal")
	if w := do(t, h, "/health"); w.Code != 200 {
		t.Fatalf("health after heal %d", w.Code)
	}
	if w := do(t, newServer(true, nil), "/health"); w.Code != 500 {
		t.Fatalf("--unhealthy: %d", w.Code)
	}
}

func TestEchoAndExit(t *testing.T) {
	t.Setenv("TESTAPP_ECHO_PROBE", "x=y")
	exit := make(chan int, 1)
	h := newServer(false, exit)
	w := do(t, h, "/")
	var e echo
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if e.Env["TESTAPP_ECHO_PROBE"] != "x=y" || e.Hostname != host || e.PID != os.Getpid() {
		t.Errorf("%+v", e)
	}
	if w := do(t, h, "/nothing"); w.Code != 404 {
		t.Errorf("unknown path: %d", w.Code)
	}
	do(t, h, "/exit?code=7")
	if code := <-exit; code != 7 {
		t.Errorf("exit code %d", code)
	}
}
