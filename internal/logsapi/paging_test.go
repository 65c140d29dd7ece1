package logsapi_test

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"pgregory.net/rapid"
)

// model is the reference: every event put, in memory, with the key the
// API orders by (timestamp, stream, sequence in the stream).
type model struct {
	evs  []mev
	next map[string]uint64
	n    int
}

type mev struct {
	ts     int64
	stream string
	seq    uint64
	msg    string
}

func (a mev) cmp(b mev) int {
	return cmp.Or(cmp.Compare(a.ts, b.ts), strings.Compare(a.stream, b.stream), cmp.Compare(a.seq, b.seq))
}

// put sends a random batch (in chronological order, as PutLogEvents
// wants; its times are random against the stream's earlier ones).
func (m *model) put(t *rapid.T, e *env, group string, streams []string, base int64) {
	s := rapid.SampledFrom(streams).Draw(t, "stream")
	var ts []int64
	for i, n := 0, rapid.IntRange(1, 20).Draw(t, "events"); i < n; i++ {
		ts = append(ts, base+int64(rapid.IntRange(0, 60).Draw(t, "ts")))
	}
	slices.Sort(ts)
	var in []types.InputLogEvent
	for _, x := range ts {
		m.n++
		msg := fmt.Sprintf("m%d %s", m.n, rapid.SampledFrom([]string{"a", "b", "ab", "x ab y"}).Draw(t, "word"))
		in = append(in, types.InputLogEvent{Timestamp: aws.Int64(x), Message: aws.String(msg)})
		m.evs = append(m.evs, mev{x, s, m.next[s], msg})
		m.next[s]++
	}
	if _, err := e.c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: &group, LogStreamName: &s, LogEvents: in}); err != nil {
		t.Fatal(err)
	}
}

// page is the reference's answer: the events selected by keep, after
// (forward) or before (backward) the position, the first limit of them
// that way, in ascending order.
func (m *model) page(keep func(mev) bool, pos *mev, backward bool, limit int) []string {
	var sel []mev
	for _, ev := range m.evs {
		if !keep(ev) {
			continue
		}
		if pos != nil && ((!backward && ev.cmp(*pos) <= 0) || (backward && ev.cmp(*pos) >= 0)) {
			continue
		}
		sel = append(sel, ev)
	}
	slices.SortFunc(sel, mev.cmp)
	if backward {
		sel = sel[max(len(sel)-limit, 0):]
	} else {
		sel = sel[:min(limit, len(sel))]
	}
	var out []string
	for _, ev := range sel {
		out = append(out, ev.msg)
	}
	return out
}

func (m *model) byMsg(msg string) *mev {
	for i := range m.evs {
		if m.evs[i].msg == msg {
			return &m.evs[i]
		}
	}
	return nil
}

// Property: GetLogEvents (forward from the head, or backward from the
// tail, in pages of random sizes) and FilterLogEvents (several streams,
// a pattern, a time range, random page sizes) give the reference's pages
// in timestamp order, with batches out of order across calls and new
// events arriving between pages: every event exactly once, except those
// arriving behind the position already read (as in CloudWatch).
func TestPagingAgreesWithReference(t *testing.T) {
	e := newEnv(t)
	streams := []string{"a", "b", "c"}
	cases := 0
	rapid.Check(t, func(t *rapid.T) {
		cases++
		group := fmt.Sprintf("g%d", cases)
		must(e.c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: &group}))
		for _, s := range streams {
			must(e.c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: &group, LogStreamName: aws.String(s)}))
		}
		m := &model{next: map[string]uint64{}}
		base := e.clk.Now().UnixMilli() - 10_000
		for b, nb := 0, rapid.IntRange(0, 8).Draw(t, "batches"); b < nb; b++ {
			m.put(t, e, group, streams, base)
		}
		var start, end *int64
		if rapid.Bool().Draw(t, "ranged") {
			start, end = aws.Int64(base+int64(rapid.IntRange(0, 30).Draw(t, "start"))), aws.Int64(base+int64(rapid.IntRange(30, 61).Draw(t, "end")))
		}
		inRange := func(ev mev) bool { return (start == nil || ev.ts >= *start) && (end == nil || ev.ts < *end) }
		arrive := func(pages int) {
			for n := rapid.IntRange(0, 2).Draw(t, "arrivals"); n > 0 && pages < 3; n-- {
				m.put(t, e, group, streams, base)
			}
		}
		if rapid.Bool().Draw(t, "filter") {
			sel := rapid.SliceOfNDistinct(rapid.SampledFrom(streams), 1, 3, rapid.ID[string]).Draw(t, "streams")
			pattern := rapid.SampledFrom([]string{"", "ab"}).Draw(t, "pattern")
			keep := func(ev mev) bool {
				return slices.Contains(sel, ev.stream) && inRange(ev) && strings.Contains(ev.msg, pattern)
			}
			in := &cwl.FilterLogEventsInput{LogGroupName: &group, LogStreamNames: sel, FilterPattern: &pattern, StartTime: start, EndTime: end}
			var pos *mev
			for pages := 0; ; pages++ {
				limit := rapid.IntRange(1, 12).Draw(t, "limit")
				in.Limit = aws.Int32(int32(limit))
				want := m.page(keep, pos, false, limit)
				out, err := e.c.FilterLogEvents(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, ev := range out.Events {
					got = append(got, *ev.Message)
					if ev.LogStreamName == nil || *ev.LogStreamName != m.byMsg(*ev.Message).stream {
						t.Fatalf("%s in stream %v", *ev.Message, ev.LogStreamName)
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("filter page %d after %v:\ngot  %v\nwant %v", pages, pos, got, want)
				}
				if len(got) > 0 {
					pos = m.byMsg(got[len(got)-1])
				}
				if out.NextToken == nil {
					if rest := m.page(keep, pos, false, 1<<30); len(rest) > 0 {
						t.Fatalf("no token, %v left", rest)
					}
					return
				}
				if pages > len(m.evs)+2 {
					t.Fatal("no end")
				}
				in.NextToken = out.NextToken
				arrive(pages)
			}
		}
		s := rapid.SampledFrom(streams).Draw(t, "stream")
		fromHead := rapid.Bool().Draw(t, "fromHead")
		keep := func(ev mev) bool { return ev.stream == s && inRange(ev) }
		in := &cwl.GetLogEventsInput{LogGroupName: &group, LogStreamName: &s, StartFromHead: aws.Bool(fromHead), StartTime: start, EndTime: end}
		var pos *mev
		for pages := 0; ; pages++ {
			limit := rapid.IntRange(1, 12).Draw(t, "limit")
			in.Limit = aws.Int32(int32(limit))
			want := m.page(keep, pos, !fromHead, limit)
			out, err := e.c.GetLogEvents(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ev := range out.Events {
				got = append(got, *ev.Message)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("get page %d (head %v) after %v:\ngot  %v\nwant %v", pages, fromHead, pos, got, want)
			}
			tok := out.NextForwardToken
			if !fromHead {
				tok = out.NextBackwardToken
			}
			if len(got) == 0 {
				if in.NextToken != nil && *tok != *in.NextToken {
					t.Fatalf("empty page, token %s after %s", *tok, *in.NextToken)
				}
				return
			}
			if fromHead {
				pos = m.byMsg(got[len(got)-1])
			} else {
				pos = m.byMsg(got[0])
			}
			if pages > len(m.evs)+2 {
				t.Fatal("no end")
			}
			in.NextToken = tok
			arrive(pages)
		}
	})
}
