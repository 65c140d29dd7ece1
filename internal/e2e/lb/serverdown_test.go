package lb

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestDataPlaneServesWithoutServer: the data plane keeps serving a
// service's traffic when the server stops, and keeps acting on its own
// health checks (a task that fails them gets no more requests); a
// data-plane node restarted while the server is still down serves from
// the configuration it kept.
func TestDataPlaneServesWithoutServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	addr, tg, _ := e.alb("web", 0)
	e.service("web", e.webDef("v1"), tg, 2, 0)
	e.waitStable("web", 2*time.Minute)
	e.waitInService(tg, time.Minute)

	tasks := e.runningTasks("web", 2, 10*time.Second)
	sickURL := fmt.Sprintf("http://127.0.0.1:%d/", hostPort(t, tasks[0]))
	c := &http.Client{Timeout: 2 * time.Second}
	_, sick, err := get(t, c, sickURL, "")
	if err != nil || sick.Hostname == "" {
		t.Fatalf("GET / of a task: %v %+v", err, sick)
	}

	l := startLoad(t, addr+":80", 100)
	l.WaitAnswers(t, "v1", 100, 30*time.Second)
	if err := e.srv.Close(); err != nil {
		t.Fatalf("stop the server: %v", err)
	}
	ok, _, _, _ := l.Snapshot()
	l.WaitAnswers(t, "v1", ok["v1"]+300, 30*time.Second)

	// The data plane's own checks still act: a task whose /health fails
	// gets no more requests (it still answers /, so no request fails).
	if _, _, err := get(t, c, sickURL+"fail", ""); err != nil {
		t.Fatalf("GET /fail of the task: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for others := 0; others < 50; {
		_, ec, err := get(t, c, "http://"+addr+"/", "")
		switch {
		case err != nil:
			t.Fatalf("GET through the load balancer: %v", err)
		case ec.Hostname == sick.Hostname:
			others = 0
		default:
			others++
		}
		if time.Now().After(deadline) {
			t.Fatal("30s after its /health failed, the task still gets requests")
		}
	}
	l.Finish()
	if _, fails, causes, _ := l.Snapshot(); fails != 0 {
		t.Fatalf("%d requests failed while the server stopped: %v", fails, causes)
	}

	// Restart the node: while it is down nothing listens; once it is back
	// it serves from its kept configuration, with no server to ask.
	e.stopLB()
	if _, _, err := get(t, c, "http://"+addr+"/", ""); err == nil {
		t.Fatal("the load balancer answered with its data-plane node stopped")
	}
	e.startLB()
	deadline = time.Now().Add(30 * time.Second)
	for {
		status, ec, err := get(t, c, "http://"+addr+"/", "")
		if err == nil && status == 200 && ec.Version == "v1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restarted data-plane node does not serve within 30s: %d %v", status, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	l = startLoad(t, addr+":80", 100)
	l.WaitAnswers(t, "v1", 300, 30*time.Second)
	l.Finish()
	if _, fails, causes, _ := l.Snapshot(); fails != 0 {
		t.Fatalf("%d requests failed through the restarted node: %v", fails, causes)
	}
}
