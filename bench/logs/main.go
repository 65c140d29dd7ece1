// Command logs measures berth's CloudWatch Logs API (internal/logsapi over
// internal/logstore) the way a client sees it: an aws-sdk-go-v2
// cloudwatchlogs client that SigV4-signs every request, against the API on
// berth's protocol edge served over loopback HTTP by this process, with the
// store on disk under --data-root and fsync on every batch.
//
//   - ingest: --lines log lines (about 70 bytes of JSON: 10,000 of them plus
//     CloudWatch's 26 bytes each fit the 1 MiB batch limit) sent to one stream
//     by one client through PutLogEvents in batches of --batch (10,000 by
//     default, CloudWatch's maximum), each acknowledged after its fsync:
//     lines/s.
//   - filter: FilterLogEvents over one stream of --lines lines, all pages,
//     with one pattern of each kind (text term, quoted phrase, ?alternatives,
//     -exclusion, JSON string and number equality, JSON comparison, JSON
//     && and ||, space-delimited): latency of the whole search. The
//     space-delimited pattern searches a second stream of as many
//     access-log lines, written to the store directly (not timed).
//
// Every round makes a new store. The summary shows medians over --repeat
// rounds. It asserts nothing; see docs/benchmarks.md.
//
//	go run ./bench/logs                       # 1,000,000 lines, 3 rounds
//	go run ./bench/logs --lines 200000 --repeat 1
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/logsapi"
	"berth.dev/berth/internal/logstore"
	"berth.dev/berth/internal/sdkhttp"
	"berth.dev/berth/internal/sigv4"
)

const (
	region  = "us-east-1"
	account = "123456789012"
	keyID   = "AKIDBENCHLOGS"
	secret  = "bench-logs-secret-key-0000000000000000000"
)

type options struct {
	lines    int
	batch    int
	repeat   int
	filters  int
	dataRoot string
	noSync   bool
	out      string
	cpuProf  string
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	o := &options{}
	fs.IntVar(&o.lines, "lines", 1_000_000, "lines ingested per round (then searched)")
	fs.IntVar(&o.batch, "batch", 10_000, "events per PutLogEvents (1-10000)")
	fs.IntVar(&o.repeat, "repeat", 3, "rounds; the summary shows medians")
	fs.IntVar(&o.filters, "filters", 3, "searches of each pattern per round")
	fs.StringVar(&o.dataRoot, "data-root", os.TempDir(), "where each round's store is made")
	fs.BoolVar(&o.noSync, "no-sync", false, "skip fsync (measures the page cache, not the disk)")
	fs.StringVar(&o.out, "out", "", "append the Markdown summary to this file")
	fs.StringVar(&o.cpuProf, "cpuprofile", "", "write a CPU profile of the last round's searches to this file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments %v", fs.Args())
	case o.lines < 1:
		return nil, errors.New("--lines must be at least 1")
	case o.batch < 1 || o.batch > 10_000:
		return nil, errors.New("--batch must be 1 to 10000")
	case o.repeat < 1 || o.filters < 1:
		return nil, errors.New("--repeat and --filters must be at least 1")
	}
	return o, nil
}

type auth struct{}

func (auth) Authenticate(r *http.Request, body []byte, signingName string) (string, error) {
	v := sigv4.Verifier{Service: signingName, Region: region, Lookup: func(id string) (string, bool) { return secret, id == keyID }}
	if _, err := v.Verify(r, body, time.Now()); err != nil {
		return "", awsproto.NewError("InvalidSignatureException", err.Error())
	}
	return "arn:aws:iam::" + account + ":root", nil
}

// line is the i-th log line: one in a thousand is an error.
func line(i int) string {
	level, status := "info", 200
	if i%1000 == 999 {
		level, status = "error", 500
	}
	return fmt.Sprintf(`{"level":"%s","id":%d,"path":"/api/i/%d","status":%d,"latency":%d}`,
		level, i, i%977, status, i%250)
}

// accessLine is the i-th line of the access-log stream: one in a thousand
// has status 500.
func accessLine(i int) string {
	status := 200
	if i%1000 == 999 {
		status = 500
	}
	return fmt.Sprintf(`10.0.%d.%d - user%d [06/Dec/2026:00:00:%02d +0000] "GET /api/i/%d HTTP/1.1" %d %d`,
		i/256%256, i%256, i%97, i%60, i%977, status, i%2000)
}

type round struct {
	ingest    time.Duration
	linesPerS float64
	filter    [][]time.Duration // by search
	matches   []int
	bytes     int64
}

func runRound(ctx context.Context, o *options, prof bool) (*round, error) {
	dir, err := os.MkdirTemp(o.dataRoot, "bench-logs-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	st, err := logstore.Open(dir, logstore.Options{NoSync: o.noSync})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	api := logsapi.New(logsapi.Config{Region: region, Account: account, Store: st})
	srv := httptest.NewServer(awsproto.NewEdge(awsproto.Config{Services: []awsproto.Service{api.Service()}, Auth: auth{}}))
	defer srv.Close()
	c := cwl.New(cwl.Options{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""), RetryMaxAttempts: 1, HTTPClient: sdkhttp.New()})
	g, s := aws.String("/bench/app"), aws.String("app/1")
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: g}); err != nil {
		return nil, err
	}
	if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: g, LogStreamName: s}); err != nil {
		return nil, err
	}
	// Batches are built before the clock starts.
	base := time.Now().Add(-time.Hour).UnixMilli()
	var batches [][]types.InputLogEvent
	for i := 0; i < o.lines; i += o.batch {
		var b []types.InputLogEvent
		for j := i; j < min(i+o.batch, o.lines); j++ {
			b = append(b, types.InputLogEvent{Message: aws.String(line(j)), Timestamp: aws.Int64(base + int64(j)/1000)})
		}
		batches = append(batches, b)
	}
	r := &round{filter: make([][]time.Duration, len(searches)), matches: make([]int, len(searches))}
	start := time.Now()
	for _, b := range batches {
		out, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: g, LogStreamName: s, LogEvents: b})
		if err != nil {
			return nil, err
		}
		if out.RejectedLogEventsInfo != nil {
			return nil, fmt.Errorf("events rejected: %+v", out.RejectedLogEventsInfo)
		}
	}
	r.ingest = time.Since(start)
	r.linesPerS = float64(o.lines) / r.ingest.Seconds()
	streams, _ := st.Streams("/bench/app")
	r.bytes = streams[0].StoredBytes
	// The access-log stream, straight into the store (not measured).
	if err := st.CreateStream("/bench/app", "access/1"); err != nil {
		return nil, err
	}
	for i := 0; i < o.lines; i += o.batch {
		var b []logstore.Input
		for j := i; j < min(i+o.batch, o.lines); j++ {
			b = append(b, logstore.Input{Message: accessLine(j), Timestamp: base + int64(j)/1000})
		}
		if _, err := st.Append("/bench/app", "access/1", b); err != nil {
			return nil, err
		}
	}
	if prof {
		f, err := os.Create(o.cpuProf)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	for k, sr := range searches {
		for n := 0; n < o.filters; n++ {
			start := time.Now()
			matches := 0
			p := cwl.NewFilterLogEventsPaginator(c, &cwl.FilterLogEventsInput{LogGroupName: g, LogStreamNames: []string{sr.stream},
				FilterPattern: aws.String(sr.pattern)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return nil, err
				}
				matches += len(out.Events)
			}
			d := time.Since(start)
			r.filter[k] = append(r.filter[k], d)
			r.matches[k] = matches
		}
	}
	return r, nil
}

type search struct{ kind, stream, pattern string }

// searches are one pattern of each kind. On the JSON stream: 0.1 % of the
// lines match the text ones and the JSON equalities (mostly answered by
// the matcher's substring prefilter), 1.6 % the comparison that no
// substring can pre-screen, 0.2 % the && / || one. On the access-log
// stream the space-delimited one matches 0.1 %.
var searches = []search{
	{"quoted phrase", "app/1", `"error"`},
	{"term", "app/1", `i/976`},
	{"?alternatives", "app/1", `?error ?warn`},
	{"-exclusion", "app/1", `latency -info`},
	{"JSON string =", "app/1", `{ $.level = "error" }`},
	{"JSON number =", "app/1", `{ $.status = 500 }`},
	{"JSON >", "app/1", `{ $.latency > 245 }`},
	{"JSON && ||", "app/1", `{ ($.latency > 248 && $.id < 500000) || $.status = 500 }`},
	{"space-delimited", "access/1", `[ip, ident, user, ..., status = 5*, bytes]`},
}

func median[T int64 | float64 | time.Duration](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/logs:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	var rounds []*round
	for i := 0; i < o.repeat; i++ {
		r, err := runRound(ctx, o, o.cpuProf != "" && i == o.repeat-1)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/logs:", err)
			os.Exit(1)
		}
		fmt.Printf("round %d: ingest %d lines in %v (%.0f lines/s, %.1f MB stored)\n", i+1, o.lines, r.ingest.Round(time.Millisecond), r.linesPerS, float64(r.bytes)/1e6)
		for k, sr := range searches {
			fmt.Printf("  %-16s %-60s %v (%d matches)\n", sr.kind, sr.pattern, median(r.filter[k]).Round(time.Millisecond), r.matches[k])
		}
		rounds = append(rounds, r)
	}
	var lps []float64
	for _, r := range rounds {
		lps = append(lps, r.linesPerS)
	}
	sync := "fsync every batch"
	if o.noSync {
		sync = "no fsync"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n### bench/logs: %d lines, batches of %d, %s, %d rounds (medians)\n\n", o.lines, o.batch, sync, o.repeat)
	fmt.Fprintf(&b, "Ingestion: %.0f lines/s.\n\n| FilterLogEvents over %d lines | pattern | matches | median |", median(lps), o.lines)
	for i := range rounds {
		fmt.Fprintf(&b, " round %d |", i+1)
	}
	b.WriteString("\n|---|---|---:|---:|" + strings.Repeat("---:|", len(rounds)) + "\n")
	for k, sr := range searches {
		var meds []time.Duration
		for _, r := range rounds {
			meds = append(meds, median(r.filter[k]))
		}
		fmt.Fprintf(&b, "| %s | `%s` | %d | %v |", sr.kind, sr.pattern, rounds[0].matches[k], median(meds).Round(time.Millisecond))
		for _, m := range meds {
			fmt.Fprintf(&b, " %v |", m.Round(time.Millisecond))
		}
		b.WriteString("\n")
	}
	fmt.Print(b.String())
	if o.out != "" {
		f, err := os.OpenFile(o.out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = f.WriteString(b.String())
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/logs:", err)
			os.Exit(1)
		}
	}
}
