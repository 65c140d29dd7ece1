// Package steadyload keeps a steady rate of GET requests to one URL for
// end-to-end tests (traffic through a load balancer while a service rolls,
// scales in or drains) and counts the answers by the VERSION the test app
// reports in its environment echo, and the failures with their first
// causes.
//
// Invariants: Finish stops every worker and waits for them (it also runs
// when the test ends); Snapshot returns copies.
package steadyload

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Load is a running load.
type Load struct {
	url     string
	client  *http.Client
	started time.Time
	stop    chan struct{}
	once    sync.Once
	done    sync.WaitGroup

	mu     sync.Mutex
	ok     map[string]int
	fails  int
	causes []string
	last   string
}

// Start sends rate GET requests a second to url, spread over workers
// goroutines, through transport (nil: a default one).
func Start(t testing.TB, url string, rate, workers int, transport *http.Transport) *Load {
	if transport == nil {
		transport = &http.Transport{MaxIdleConnsPerHost: workers}
	}
	l := &Load{url: url, ok: map[string]int{}, stop: make(chan struct{}), started: time.Now(),
		client: &http.Client{Timeout: 10 * time.Second, Transport: transport}}
	interval := time.Second * time.Duration(workers) / time.Duration(rate)
	for range workers {
		l.done.Add(1)
		go func() {
			defer l.done.Done()
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				select {
				case <-l.stop:
					return
				case <-tick.C:
					l.one()
				}
			}
		}()
	}
	t.Cleanup(l.Finish)
	return l
}

func (l *Load) one() {
	resp, err := l.client.Get(l.url)
	var version string
	if err == nil {
		b, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case rerr != nil:
			err = rerr
		case resp.StatusCode != http.StatusOK:
			err = fmt.Errorf("HTTP %d: %.80s", resp.StatusCode, b)
		default:
			version = VersionOf(b)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.fails++
		if len(l.causes) < 10 {
			l.causes = append(l.causes, fmt.Sprintf("%s: %v", time.Since(l.started).Round(time.Millisecond), err))
		}
		return
	}
	l.ok[version]++
	l.last = version
}

// VersionOf reads "VERSION":"x" out of the test app's echo ("?" without).
func VersionOf(b []byte) string {
	s := string(b)
	i := strings.Index(s, `"VERSION":"`)
	if i < 0 {
		return "?"
	}
	s = s[i+len(`"VERSION":"`):]
	if j := strings.IndexByte(s, '"'); j >= 0 {
		return s[:j]
	}
	return "?"
}

// Finish stops the load and waits for its workers.
func (l *Load) Finish() {
	l.once.Do(func() { close(l.stop) })
	l.done.Wait()
}

// Snapshot returns the answers by version, the failures, their first
// causes and the last version answered.
func (l *Load) Snapshot() (map[string]int, int, []string, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ok := make(map[string]int, len(l.ok))
	for k, v := range l.ok {
		ok[k] = v
	}
	return ok, l.fails, append([]string(nil), l.causes...), l.last
}

// WaitAnswers waits until the load has had at least n answers of version,
// and fails the test after within.
func (l *Load) WaitAnswers(t testing.TB, version string, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if ok, _, _, _ := l.Snapshot(); ok[version] >= n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	ok, fails, causes, _ := l.Snapshot()
	t.Fatalf("fewer than %d answers of %s within %s: %v, %d failures %v", n, version, within, ok, fails, causes)
}
