package harness

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// MetricsSample is what the bench reads from the server's /metrics.
type MetricsSample struct {
	HeapInuse float64            // go_memstats_heap_inuse_bytes; -1 unknown
	OpSum     map[string]float64 // berth_api_request_duration_seconds_sum by operation
	OpCount   map[string]float64
	CPU       float64 // process_cpu_seconds_total; 0 when absent
	// OK is true when the server answered 200 OK and its whole answer was
	// read.
	OK bool
}

// ReadMetrics reads the server's /metrics; what it cannot read stays
// unknown.
func ReadMetrics(ctx context.Context, s *Server) MetricsSample {
	return readMetrics(ctx, s.HTTPClient(), s.Endpoint)
}

// ReadMetricsAt reads the /metrics of the berth server at endpoint (one the
// bench did not necessarily start); what it cannot read stays unknown.
func ReadMetricsAt(ctx context.Context, endpoint string) MetricsSample {
	return readMetrics(ctx, http.DefaultClient, endpoint)
}

func readMetrics(ctx context.Context, hc *http.Client, endpoint string) MetricsSample {
	m := MetricsSample{HeapInuse: -1, OpSum: map[string]float64{}, OpCount: map[string]float64{}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/metrics", nil)
	if err != nil {
		return m
	}
	resp, err := hc.Do(req)
	if err != nil {
		return m
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch {
		case name == "go_memstats_heap_inuse_bytes":
			m.HeapInuse = v
		case name == "process_cpu_seconds_total":
			m.CPU = v
		case strings.HasPrefix(name, "berth_api_request_duration_seconds_sum{"):
			m.OpSum[Label(name, "operation")] = v
		case strings.HasPrefix(name, "berth_api_request_duration_seconds_count{"):
			m.OpCount[Label(name, "operation")] = v
		}
	}
	m.OK = resp.StatusCode == http.StatusOK && sc.Err() == nil
	return m
}

// Label is the value of label name in a Prometheus series name.
func Label(series, name string) string {
	_, rest, ok := strings.Cut(series, name+`="`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// ServerHeap reads go_memstats_heap_inuse_bytes from the server's metrics.
func ServerHeap(ctx context.Context, s *Server) float64 { return ReadMetrics(ctx, s).HeapInuse }

// APITime is the server-side time of the API calls of ops between two
// samples: "RunTask 100 × 3.10 ms, ...", "unknown" when none was made.
func APITime(a, b MetricsSample, ops ...string) string {
	var parts []string
	for _, op := range ops {
		n := b.OpCount[op] - a.OpCount[op]
		if n <= 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.0f × %.2f ms", op, n, 1000*(b.OpSum[op]-a.OpSum[op])/n))
	}
	if len(parts) == 0 {
		return "unknown"
	}
	return strings.Join(parts, ", ")
}
