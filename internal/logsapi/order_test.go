package logsapi_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// A batch out of chronological order is stored, and read, in timestamp
// order; equal timestamps keep the request's order. Batches keep their
// arrival order (docs/logs.md).
func TestPutLogEventsSortsBatch(t *testing.T) {
	e := newEnv(t)
	e.group(t, "g", "s")
	now := e.clk.Now().UnixMilli()
	batch := func(msgs []string, ts []int64) {
		var evs []types.InputLogEvent
		for i, m := range msgs {
			evs = append(evs, types.InputLogEvent{Message: aws.String(m), Timestamp: aws.Int64(ts[i])})
		}
		must(e.c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: evs}))
	}
	batch([]string{"c", "a1", "b", "a2", "a3"}, []int64{now - 10, now - 30, now - 20, now - 30, now - 30})
	batch([]string{"d"}, []int64{now - 40}) // a later batch of older events comes after
	var got []string
	for _, ev := range must(e.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})).Events {
		got = append(got, *ev.Message)
	}
	if want := []string{"a1", "a2", "a3", "b", "c", "d"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// FilterLogEvents over several streams of many segments (searched in
// parallel) gives, page after page, exactly the matching events in stream
// and sequence order, whatever the page size.
func TestFilterLogEventsPagesOverSegments(t *testing.T) {
	e := newEnv(t) // segments of 4 KiB
	e.group(t, "g", "a", "b", "c")
	now := e.clk.Now().UnixMilli()
	var want []string
	for _, s := range []string{"a", "b", "c"} {
		var msgs []string
		for i := 0; i < 600; i++ {
			m := fmt.Sprintf(`{"n":%d,"s":"%s","pad":"................................"}`, i, s)
			msgs = append(msgs, m)
			if i%5 == 0 && s != "b" {
				want = append(want, s+" "+m)
			}
		}
		for i := 0; i < len(msgs); i += 50 { // a segment per batch or so
			e.put(t, "g", s, msgs[i:i+50], now-10_000+int64(i))
		}
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
			t.Fatalf("limit %d: %d events, want %d", limit, len(got), len(want))
		}
	}
}
