package logsapi_test

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// A batch out of chronological order is refused, as CloudWatch does,
// and nothing of it is stored; equal timestamps are in order. Reads are
// in timestamp order, as CloudWatch's, whatever order the batches came in
// (before, a later batch of older events came after: storage order).
func TestPutLogEventsChronologicalOrder(t *testing.T) {
	e := newEnv(t)
	e.group(t, "g", "s")
	now := e.clk.Now().UnixMilli()
	put := func(msgs []string, ts []int64) error {
		var evs []types.InputLogEvent
		for i, m := range msgs {
			evs = append(evs, types.InputLogEvent{Message: aws.String(m), Timestamp: aws.Int64(ts[i])})
		}
		_, err := e.c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: evs})
		return err
	}
	err := put([]string{"c", "a1", "b"}, []int64{now - 10, now - 30, now - 20})
	var ipe *types.InvalidParameterException
	if !errors.As(err, &ipe) || aws.ToString(ipe.Message) != "Log events in a single PutLogEvents request must be in chronological order." {
		t.Fatalf("an unsorted batch: %v", err)
	}
	if err := put([]string{"a1", "a2", "a3", "b", "c"}, []int64{now - 30, now - 30, now - 30, now - 20, now - 10}); err != nil {
		t.Fatal(err)
	}
	if err := put([]string{"d"}, []int64{now - 40}); err != nil { // a later batch of older events comes first
		t.Fatal(err)
	}
	var got []string
	for _, ev := range must(e.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})).Events {
		got = append(got, *ev.Message)
	}
	if want := []string{"d", "a1", "a2", "a3", "b", "c"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// FilterLogEvents over several streams of many segments (searched in
// parallel) gives, page after page, exactly the matching events
// interleaved in timestamp order (then stream name, then the order they
// were stored), as CloudWatch does, whatever the page size. (Before, the
// streams came one after the other.)
func TestFilterLogEventsPagesOverSegments(t *testing.T) {
	e := newEnv(t) // segments of 4 KiB
	e.group(t, "g", "a", "b", "c")
	now := e.clk.Now().UnixMilli()
	type ev struct {
		ts  int64
		txt string
	}
	var wantEvs []ev
	for _, s := range []string{"a", "b", "c"} {
		var msgs []string
		for i := 0; i < 600; i++ {
			m := fmt.Sprintf(`{"n":%d,"s":"%s","pad":"................................"}`, i, s)
			msgs = append(msgs, m)
			if i%5 == 0 && s != "b" {
				wantEvs = append(wantEvs, ev{now - 10_000 + int64(i), s + " " + m}) // e.put: the i-th event at base + i
			}
		}
		for i := 0; i < len(msgs); i += 50 { // a segment per batch or so
			e.put(t, "g", s, msgs[i:i+50], now-10_000+int64(i))
		}
	}
	slices.SortStableFunc(wantEvs, func(x, y ev) int { return cmp.Or(cmp.Compare(x.ts, y.ts), strings.Compare(x.txt[:1], y.txt[:1])) })
	var want []string
	for _, e := range wantEvs {
		want = append(want, e.txt)
	}
	for _, limit := range []int32{1, 3, 50, 10_000} {
		var got []string
		p := cwl.NewFilterLogEventsPaginator(e.c, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), Limit: aws.Int32(limit),
			FilterPattern: aws.String(`{ $.s != "b" && ($.n = *0 || $.n = *5) }`)})
		for pages := 0; p.HasMorePages(); pages++ {
			if pages > len(want)+3 {
				t.Fatalf("limit %d: too many pages", limit)
			}
			out := must(p.NextPage(ctx))
			if len(out.Events) > int(limit) {
				t.Fatalf("limit %d: page of %d", limit, len(out.Events))
			}
			for _, ev := range out.Events {
				got = append(got, *ev.LogStreamName+" "+*ev.Message)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("limit %d: %d events, want %d\n%v\n%v", limit, len(got), len(want), got[:8], want[:8])
		}
	}
}

// A FilterLogEvents token stays valid when a stream it names is created
// between pages (the query's identity is the request's, not the streams
// found), and is refused by another query.
func TestFilterTokenAcrossStreamCreation(t *testing.T) {
	e := newEnv(t)
	e.group(t, "g", "a")
	now := e.clk.Now().UnixMilli()
	e.put(t, "g", "a", []string{"a1", "a2"}, now-100)
	in := &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), LogStreamNames: []string{"z", "a"}, Limit: aws.Int32(1)}
	out := must(e.c.FilterLogEvents(ctx, in))
	if len(out.Events) != 1 || out.NextToken == nil {
		t.Fatalf("%+v", out)
	}
	e.addStream(t, "g", "z")
	e.put(t, "g", "z", []string{"z1"}, now-50)
	in.NextToken = out.NextToken
	var got []string
	for p := cwl.NewFilterLogEventsPaginator(e.c, in); p.HasMorePages(); {
		for _, ev := range must(p.NextPage(ctx)).Events {
			got = append(got, *ev.Message)
		}
	}
	if !slices.Equal(got, []string{"a2", "z1"}) {
		t.Fatalf("got %v", got)
	}
	_, err := e.c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), FilterPattern: aws.String("a"), NextToken: out.NextToken})
	apiErr(t, err, "InvalidParameterException", "The specified nextToken is invalid.")
}

func (e *env) addStream(t *testing.T, g, s string) {
	t.Helper()
	must(e.c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: &g, LogStreamName: &s}))
}
