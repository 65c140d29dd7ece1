package logsapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/logsapi"
	"berth.dev/berth/internal/logstore"
	"berth.dev/berth/internal/sdkhttp"
	"berth.dev/berth/internal/sigv4"
)

const (
	region  = "us-east-1"
	account = "123456789012"
	keyID   = "AKIDEXAMPLE"
	secret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

var namer = arn.Namer{Partition: "aws", Region: region, Account: account}

type sigAuth struct{}

func (sigAuth) Authenticate(r *http.Request, body []byte, signingName string) (string, error) {
	v := sigv4.Verifier{Service: signingName, Region: region, Lookup: func(id string) (string, bool) { return secret, id == keyID }}
	if _, err := v.Verify(r, body, time.Now()); err != nil {
		e, _ := apierr.As(err)
		return "", awsproto.WithStatus(e.Status(), e.Code, e.Message)
	}
	return namer.Root(), nil
}

// clock is the injected time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	c     *cwl.Client
	api   *logsapi.API
	store *logstore.Store
	clk   *clock
	dir   string
	srv   *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{clk: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}, dir: t.TempDir()}
	e.open(t)
	return e
}

// open (re)opens the store and serves it.
func (e *env) open(t *testing.T) {
	t.Helper()
	st, err := logstore.Open(e.dir, logstore.Options{Now: e.clk.Now, SegmentBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	e.store = st
	e.api = logsapi.New(logsapi.Config{Region: region, Account: account, Store: st, Now: e.clk.Now})
	edge := awsproto.NewEdge(awsproto.Config{Services: []awsproto.Service{e.api.Service()}, Auth: sigAuth{}})
	e.srv = httptest.NewServer(edge)
	t.Cleanup(e.srv.Close)
	e.c = cwl.New(cwl.Options{Region: region, BaseEndpoint: aws.String(e.srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""), RetryMaxAttempts: 1, HTTPClient: sdkhttp.New()})
}

func (e *env) restart(t *testing.T) {
	e.srv.Close()
	e.store.Close()
	e.open(t)
}

var ctx = context.Background()

func apiErr(t *testing.T, err error, code, msgPart string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msgPart) {
		t.Fatalf("want %s containing %q, got %s: %s", code, msgPart, ae.ErrorCode(), ae.ErrorMessage())
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func (e *env) put(t *testing.T, g, s string, msgs []string, ts int64) *cwl.PutLogEventsOutput {
	t.Helper()
	var evs []types.InputLogEvent
	for i, m := range msgs {
		evs = append(evs, types.InputLogEvent{Message: aws.String(m), Timestamp: aws.Int64(ts + int64(i))})
	}
	return must(e.c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: &g, LogStreamName: &s, LogEvents: evs}))
}

func lines(from, n int) []string {
	var out []string
	for i := from; i < from+n; i++ {
		out = append(out, fmt.Sprintf("line %04d", i))
	}
	return out
}

func TestGroupsAndStreamsLifecycle(t *testing.T) {
	e := newEnv(t)
	now := e.clk.Now().UnixMilli()
	must(e.c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("/ecs/web"), KmsKeyId: aws.String("arn:aws:kms:us-east-1:123456789012:key/k"),
		Tags: map[string]string{"team": "a"}}))
	_, err := e.c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("/ecs/web")})
	apiErr(t, err, "ResourceAlreadyExistsException", "The specified log group already exists")
	for i := 0; i < 3; i++ {
		must(e.c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(fmt.Sprintf("/other/%d", i))}))
	}
	gs := must(e.c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/ecs")}))
	if len(gs.LogGroups) != 1 {
		t.Fatalf("groups %+v", gs.LogGroups)
	}
	g := gs.LogGroups[0]
	if *g.LogGroupName != "/ecs/web" || *g.CreationTime != now || *g.Arn != "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:*" ||
		*g.LogGroupArn != "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web" || *g.KmsKeyId == "" || g.LogGroupClass != types.LogGroupClassStandard ||
		g.RetentionInDays != nil || *g.StoredBytes != 0 {
		t.Fatalf("group %+v", g)
	}
	// Paging of 1.
	var names []string
	p := cwl.NewDescribeLogGroupsPaginator(e.c, &cwl.DescribeLogGroupsInput{Limit: aws.Int32(1)})
	for p.HasMorePages() {
		for _, g := range must(p.NextPage(ctx)).LogGroups {
			names = append(names, *g.LogGroupName)
		}
	}
	if strings.Join(names, ",") != "/ecs/web,/other/0,/other/1,/other/2" {
		t.Fatalf("paged %v", names)
	}
	if gs := must(e.c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("OTHER")})); len(gs.LogGroups) != 3 {
		t.Fatalf("pattern %d", len(gs.LogGroups))
	}
	// Streams.
	for _, s := range []string{"web/c/3", "web/c/1", "web/c/2"} {
		must(e.c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("/ecs/web"), LogStreamName: aws.String(s)}))
	}
	_, err = e.c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("/ecs/web"), LogStreamName: aws.String("web/c/1")})
	apiErr(t, err, "ResourceAlreadyExistsException", "The specified log stream already exists")
	_, err = e.c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("/nope"), LogStreamName: aws.String("x")})
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	e.put(t, "/ecs/web", "web/c/3", lines(0, 2), now-100)
	e.put(t, "/ecs/web", "web/c/1", lines(0, 2), now-50)
	ss := must(e.c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("/ecs/web")}))
	if len(ss.LogStreams) != 3 || *ss.LogStreams[0].LogStreamName != "web/c/1" {
		t.Fatalf("streams %+v", ss.LogStreams)
	}
	s1 := ss.LogStreams[0]
	if *s1.FirstEventTimestamp != now-50 || *s1.LastEventTimestamp != now-49 || *s1.LastIngestionTime != now ||
		*s1.Arn != "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:log-stream:web/c/1" || *s1.StoredBytes == 0 {
		t.Fatalf("stream %+v", s1)
	}
	ss = must(e.c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("/ecs/web"), OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true), Limit: aws.Int32(2)}))
	if len(ss.LogStreams) != 2 || *ss.LogStreams[0].LogStreamName != "web/c/1" || *ss.LogStreams[1].LogStreamName != "web/c/3" || ss.NextToken == nil {
		t.Fatalf("by time %+v", ss.LogStreams)
	}
	ss = must(e.c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("/ecs/web"), OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true), NextToken: ss.NextToken}))
	if len(ss.LogStreams) != 1 || *ss.LogStreams[0].LogStreamName != "web/c/2" || ss.NextToken != nil {
		t.Fatalf("page 2 %+v", ss.LogStreams)
	}
	ss = must(e.c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupIdentifier: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web"), LogStreamNamePrefix: aws.String("web/c/3")}))
	if len(ss.LogStreams) != 1 {
		t.Fatalf("prefix %+v", ss.LogStreams)
	}
	gs = must(e.c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/ecs")}))
	if *gs.LogGroups[0].StoredBytes == 0 {
		t.Fatal("stored bytes of the group")
	}
	// Tags both ways.
	must(e.c.TagLogGroup(ctx, &cwl.TagLogGroupInput{LogGroupName: aws.String("/ecs/web"), Tags: map[string]string{"env": "prod"}}))
	garn := "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web"
	must(e.c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: &garn, Tags: map[string]string{"x": "1"}}))
	must(e.c.UntagLogGroup(ctx, &cwl.UntagLogGroupInput{LogGroupName: aws.String("/ecs/web"), Tags: []string{"team"}}))
	tags := must(e.c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: &garn})).Tags
	if len(tags) != 2 || tags["env"] != "prod" || tags["x"] != "1" {
		t.Fatalf("tags %v", tags)
	}
	must(e.c.UntagResource(ctx, &cwl.UntagResourceInput{ResourceArn: aws.String(garn + ":*"), TagKeys: []string{"x"}}))
	if tags := must(e.c.ListTagsLogGroup(ctx, &cwl.ListTagsLogGroupInput{LogGroupName: aws.String("/ecs/web")})).Tags; len(tags) != 1 {
		t.Fatalf("tags %v", tags)
	}
	_, err = e.c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:/nope")})
	apiErr(t, err, "ResourceNotFoundException", "does not exist")
	// Retention.
	must(e.c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("/ecs/web"), RetentionInDays: aws.Int32(7)}))
	if g := must(e.c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/ecs")})).LogGroups[0]; g.RetentionInDays == nil || *g.RetentionInDays != 7 {
		t.Fatalf("retention %+v", g)
	}
	_, err = e.c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("/ecs/web"), RetentionInDays: aws.Int32(2)})
	apiErr(t, err, "InvalidParameterException", "Member must satisfy enum value set: [1, 3, 5, 7, 14")
	must(e.c.DeleteRetentionPolicy(ctx, &cwl.DeleteRetentionPolicyInput{LogGroupName: aws.String("/ecs/web")}))
	// Restart keeps groups, streams, tags and events.
	e.restart(t)
	ss = must(e.c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("/ecs/web")}))
	if len(ss.LogStreams) != 3 || *ss.LogStreams[0].LastEventTimestamp != now-49 {
		t.Fatalf("after restart %+v", ss.LogStreams)
	}
	ev := must(e.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("/ecs/web"), LogStreamName: aws.String("web/c/3")})).Events
	if len(ev) != 2 || *ev[1].Message != "line 0001" {
		t.Fatalf("events after restart %+v", ev)
	}
	// Deletes.
	must(e.c.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: aws.String("/ecs/web"), LogStreamName: aws.String("web/c/3")}))
	_, err = e.c.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: aws.String("/ecs/web"), LogStreamName: aws.String("web/c/3")})
	apiErr(t, err, "ResourceNotFoundException", "The specified log stream does not exist.")
	must(e.c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("/ecs/web")}))
	_, err = e.c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("/ecs/web")})
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
}

func (e *env) group(t *testing.T, g string, streams ...string) {
	t.Helper()
	must(e.c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: &g}))
	for _, s := range streams {
		must(e.c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: &g, LogStreamName: aws.String(s)}))
	}
}

func TestGetLogEventsTokens(t *testing.T) {
	e := newEnv(t)
	e.group(t, "g", "s")
	now := e.clk.Now().UnixMilli()
	for b := 0; b < 5; b++ {
		e.put(t, "g", "s", lines(b*100, 100), now-10_000+int64(b*100))
	}
	// Forward from the head in pages of 70 until the token repeats.
	var got []string
	in := &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true), Limit: aws.Int32(70)}
	for i := 0; ; i++ {
		out := must(e.c.GetLogEvents(ctx, in))
		for _, ev := range out.Events {
			got = append(got, *ev.Message)
		}
		if !strings.HasPrefix(*out.NextForwardToken, "f/") || !strings.HasPrefix(*out.NextBackwardToken, "b/") {
			t.Fatalf("tokens %s %s", *out.NextForwardToken, *out.NextBackwardToken)
		}
		if in.NextToken != nil && *in.NextToken == *out.NextForwardToken {
			if len(out.Events) != 0 {
				t.Fatal("same token with events")
			}
			break
		}
		in.NextToken = out.NextForwardToken
		if i > 20 {
			t.Fatal("no end")
		}
	}
	if len(got) != 500 || got[0] != "line 0000" || got[499] != "line 0499" {
		t.Fatalf("forward %d %v", len(got), got[:3])
	}
	// New events show up on the last forward token.
	last := in.NextToken
	e.put(t, "g", "s", []string{"late"}, now)
	out := must(e.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), NextToken: last}))
	if len(out.Events) != 1 || *out.Events[0].Message != "late" || *out.Events[0].IngestionTime != now {
		t.Fatalf("late %+v", out.Events)
	}
	// Backward from the tail (the default) in pages of 60: every page in
	// ascending order, pages going back.
	var back []string
	in = &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), Limit: aws.Int32(60)}
	for i := 0; ; i++ {
		out := must(e.c.GetLogEvents(ctx, in))
		var page []string
		for _, ev := range out.Events {
			page = append(page, *ev.Message)
		}
		back = append(page, back...)
		if in.NextToken != nil && *in.NextToken == *out.NextBackwardToken {
			break
		}
		in.NextToken = out.NextBackwardToken
		if i > 20 {
			t.Fatal("no end")
		}
	}
	if len(back) != 501 || back[0] != "line 0000" || back[500] != "late" {
		t.Fatalf("backward %d", len(back))
	}
	// Time range: [start, end).
	out = must(e.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true),
		StartTime: aws.Int64(now - 10_000 + 150), EndTime: aws.Int64(now - 10_000 + 160)}))
	if len(out.Events) != 10 || *out.Events[0].Message != "line 0150" {
		t.Fatalf("range %+v", len(out.Events))
	}
	_, err := e.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), NextToken: aws.String("x/1")})
	apiErr(t, err, "InvalidParameterException", "nextToken")
	_, err = e.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), Limit: aws.Int32(10_001)})
	apiErr(t, err, "InvalidParameterException", "Member must have value less than or equal to 10000")
	_, err = e.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", "The specified log stream does not exist.")
}

func TestFilterLogEvents(t *testing.T) {
	e := newEnv(t)
	e.group(t, "app", "api/1", "api/2", "worker/1")
	now := e.clk.Now().UnixMilli()
	e.put(t, "app", "api/1", []string{`{"level":"error","latency":250}`, `{"level":"info","latency":20}`, "ERROR plain text", "INFO ok"}, now-1000)
	e.put(t, "app", "api/2", []string{`{"level":"error","latency":50}`, "ERROR again Exiting"}, now-900)
	e.put(t, "app", "worker/1", []string{"ERROR worker", `{"level":"warn","latency":900}`}, now-800)
	filter := func(in *cwl.FilterLogEventsInput) []string {
		in.LogGroupName = aws.String("app")
		var out []string
		p := cwl.NewFilterLogEventsPaginator(e.c, in)
		for p.HasMorePages() {
			for _, ev := range must(p.NextPage(ctx)).Events {
				out = append(out, *ev.LogStreamName+" "+*ev.Message)
			}
		}
		return out
	}
	if got := filter(&cwl.FilterLogEventsInput{FilterPattern: aws.String("ERROR -Exiting")}); len(got) != 2 || got[0] != "api/1 ERROR plain text" || got[1] != "worker/1 ERROR worker" {
		t.Fatalf("text %v", got)
	}
	if got := filter(&cwl.FilterLogEventsInput{FilterPattern: aws.String(`{ $.level = "error" }`)}); len(got) != 2 {
		t.Fatalf("json %v", got)
	}
	if got := filter(&cwl.FilterLogEventsInput{FilterPattern: aws.String(`{ $.latency > 100 && $.level != "info" }`)}); len(got) != 2 {
		t.Fatalf("json num %v", got)
	}
	if got := filter(&cwl.FilterLogEventsInput{LogStreamNamePrefix: aws.String("api/")}); len(got) != 6 {
		t.Fatalf("prefix %v", got)
	}
	if got := filter(&cwl.FilterLogEventsInput{LogStreamNames: []string{"worker/1", "api/2"}, StartTime: aws.Int64(now - 900), EndTime: aws.Int64(now - 800)}); len(got) != 2 {
		t.Fatalf("names and range %v", got)
	}
	// Pages of 1 cover every event once.
	if got := filter(&cwl.FilterLogEventsInput{Limit: aws.Int32(1)}); len(got) != 8 {
		t.Fatalf("paged %v", got)
	}
	out := must(e.c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("app"), FilterPattern: aws.String("worker")}))
	if len(out.SearchedLogStreams) != 3 || !*out.SearchedLogStreams[0].SearchedCompletely || *out.Events[0].EventId == "" {
		t.Fatalf("searched %+v", out.SearchedLogStreams)
	}
	_, err := e.c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("app"), FilterPattern: aws.String("%regex%")})
	apiErr(t, err, "InvalidParameterException", "regular expressions are not supported")
	_, err = e.c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("app"), FilterPattern: aws.String(`{ $.a = `)})
	apiErr(t, err, "InvalidParameterException", "Invalid filter pattern")
	_, err = e.c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("app"), LogStreamNames: []string{"a"}, LogStreamNamePrefix: aws.String("a")})
	apiErr(t, err, "InvalidParameterException", "mutually exclusive")
	_, err = e.c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	_, err = e.c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("app"), NextToken: aws.String("!!")})
	apiErr(t, err, "InvalidParameterException", "nextToken")
}

func TestPutLogEventsValidation(t *testing.T) {
	e := newEnv(t)
	e.group(t, "g", "s")
	now := e.clk.Now()
	day := 24 * time.Hour
	// Too old, too new and fine in one batch.
	out := must(e.c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), SequenceToken: aws.String("ignored"),
		LogEvents: []types.InputLogEvent{
			{Message: aws.String("old"), Timestamp: aws.Int64(now.Add(-15 * day).UnixMilli())},
			{Message: aws.String("a"), Timestamp: aws.Int64(now.Add(-time.Minute).UnixMilli())},
			{Message: aws.String("b"), Timestamp: aws.Int64(now.UnixMilli())},
			{Message: aws.String("new"), Timestamp: aws.Int64(now.Add(3 * time.Hour).UnixMilli())},
		}}))
	r := out.RejectedLogEventsInfo
	if r == nil || r.TooOldLogEventEndIndex == nil || *r.TooOldLogEventEndIndex != 1 || r.TooNewLogEventStartIndex == nil || *r.TooNewLogEventStartIndex != 3 || r.ExpiredLogEventEndIndex != nil {
		t.Fatalf("rejected %+v", r)
	}
	ev := must(e.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")})).Events
	if len(ev) != 2 || *ev[0].Message != "a" || *ev[1].Message != "b" {
		t.Fatalf("stored %+v", ev)
	}
	// Retention makes older events expired.
	must(e.c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(1)}))
	out = must(e.c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
		LogEvents: []types.InputLogEvent{{Message: aws.String("x"), Timestamp: aws.Int64(now.Add(-2 * day).UnixMilli())}}}))
	if r := out.RejectedLogEventsInfo; r == nil || r.ExpiredLogEventEndIndex == nil || *r.ExpiredLogEventEndIndex != 1 {
		t.Fatalf("expired %+v", r)
	}
	put := func(g, s string, evs []types.InputLogEvent) error {
		_, err := e.c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(g), LogStreamName: aws.String(s), LogEvents: evs})
		return err
	}
	one := []types.InputLogEvent{{Message: aws.String("m"), Timestamp: aws.Int64(now.UnixMilli())}}
	apiErr(t, put("nope", "s", one), "ResourceNotFoundException", "The specified log group does not exist.")
	apiErr(t, put("g", "nope", one), "ResourceNotFoundException", "The specified log stream does not exist.")
	apiErr(t, put("g", "s", []types.InputLogEvent{}), "InvalidParameterException", "logEvents")
	apiErr(t, put("g", "s", []types.InputLogEvent{{Message: aws.String(""), Timestamp: aws.Int64(now.UnixMilli())}}), "InvalidParameterException", "logEvents.1.member.message")
	apiErr(t, put("g", "bad:name", one), "InvalidParameterException", "[^:*]*")
	apiErr(t, put("bad name", "s", one), "InvalidParameterException", "regular expression pattern")
	many := make([]types.InputLogEvent, 10_001)
	for i := range many {
		many[i] = one[0]
	}
	apiErr(t, put("g", "s", many), "InvalidParameterException", "Member must have length between 1 and 10000")
	big := strings.Repeat("x", 200_000)
	var huge []types.InputLogEvent
	for i := 0; i < 6; i++ {
		huge = append(huge, types.InputLogEvent{Message: aws.String(big), Timestamp: aws.Int64(now.UnixMilli())})
	}
	apiErr(t, put("g", "s", huge), "InvalidParameterException", "Upload too large: 1200156 bytes exceeds limit of 1048576")
	apiErr(t, put("g", "s", []types.InputLogEvent{{Message: aws.String("a"), Timestamp: aws.Int64(now.Add(-23 * time.Hour).UnixMilli())},
		{Message: aws.String("b"), Timestamp: aws.Int64(now.Add(time.Hour + time.Minute).UnixMilli())}}), "InvalidParameterException", "24 hours")
	// Exactly 10,000 events of the largest total size are accepted.
	full := make([]types.InputLogEvent, 10_000)
	msg := strings.Repeat("y", MaxPer())
	for i := range full {
		full[i] = types.InputLogEvent{Message: aws.String(msg), Timestamp: aws.Int64(now.UnixMilli())}
	}
	if err := put("g", "s", full); err != nil {
		t.Fatal(err)
	}
	// Names.
	_, err := e.c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(strings.Repeat("a", 513))})
	apiErr(t, err, "InvalidParameterException", "Member must have length between 1 and 512")
	_, err = e.c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("a*b")})
	apiErr(t, err, "InvalidParameterException", "[^:*]*")
	_, err = e.c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("c"), LogGroupClass: types.LogGroupClassInfrequentAccess})
	apiErr(t, err, "InvalidParameterException", "STANDARD")
	_, err = e.c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{Limit: aws.Int32(51)})
	apiErr(t, err, "InvalidParameterException", "less than or equal to 50")
	_, err = e.c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("a"), LogGroupNamePattern: aws.String("b")})
	apiErr(t, err, "InvalidParameterException", "mutually exclusive")
	_, err = e.c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("g"), OrderBy: types.OrderByLastEventTime, LogStreamNamePrefix: aws.String("s")})
	apiErr(t, err, "InvalidParameterException", "Cannot order by LastEventTime")
	_, err = e.c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("g"), NextToken: aws.String("zzzz")})
	apiErr(t, err, "InvalidParameterException", "nextToken")
	_, err = e.c.TagLogGroup(ctx, &cwl.TagLogGroupInput{LogGroupName: aws.String("g"), Tags: map[string]string{"aws:x": "1"}})
	apiErr(t, err, "InvalidParameterException", "tags")
	_, err = e.c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String("not-an-arn"), Tags: map[string]string{"a": "1"}})
	apiErr(t, err, "InvalidParameterException", "Invalid ARN")
	// An operation of the model not served.
	_, err = e.c.DescribeMetricFilters(ctx, &cwl.DescribeMetricFiltersInput{})
	apiErr(t, err, "UnknownOperationException", "")
}

// MaxPer is the largest message of a full 10,000-event batch.
func MaxPer() int { return logsapi.MaxBatchBytes/10_000 - logsapi.EventOverhead }

func TestRetentionEnforced(t *testing.T) {
	e := newEnv(t)
	e.group(t, "g", "s")
	now := e.clk.Now()
	// 130 events (about 4.3 KB) seal a 4 KiB segment: one segment a day.
	for i := 0; i < 5; i++ {
		e.put(t, "g", "s", lines(i*130, 130), now.Add(-time.Duration(5-i)*24*time.Hour).UnixMilli())
	}
	must(e.c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(3)}))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.api.RunRetention(runCtx, time.Hour); close(done) }()
	cancel()
	<-done
	cutoff := now.Add(-3 * 24 * time.Hour).UnixMilli()
	out := must(e.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)}))
	if len(out.Events) == 0 || len(out.Events) >= 650 {
		t.Fatalf("kept %d", len(out.Events))
	}
	// Whole segments go: the days before the cutoff, not the day on it.
	if len(out.Events) != 3*130 {
		t.Fatalf("kept %d, want 3 days", len(out.Events))
	}
	if *out.Events[len(out.Events)-1].Timestamp < cutoff {
		t.Fatal("newest event dropped")
	}
	// Two more days: everything in the stream is past retention.
	e.clk.Add(5 * 24 * time.Hour)
	if _, err := e.store.Enforce(e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	out = must(e.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)}))
	if len(out.Events) != 0 {
		t.Fatalf("kept %d", len(out.Events))
	}
	if ss := must(e.c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("g")})).LogStreams; *ss[0].StoredBytes != 0 {
		t.Fatalf("stored %d", *ss[0].StoredBytes)
	}
}
