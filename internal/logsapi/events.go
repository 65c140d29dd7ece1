package logsapi

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/logfilter"
	"berth.dev/berth/internal/logsshape"
	"berth.dev/berth/internal/logstore"
)

// PutLogEvents limits (CloudWatch's).
const (
	MaxBatchEvents   = 10_000
	MaxBatchBytes    = 1_048_576
	EventOverhead    = 26
	MaxEventBytes    = MaxBatchBytes - EventOverhead
	maxGetLimit      = 10_000
	tooOldAge        = 14 * 24 * time.Hour
	tooNewAhead      = 2 * time.Hour
	maxBatchSpan     = 24 * time.Hour
	maxResponseBytes = 1 << 20
)

func (a *API) streamShape(group string, st logstore.Stream) logsshape.LogStream {
	out := logsshape.LogStream{
		LogStreamName: ptr(st.Name), CreationTime: ptr(st.Created), StoredBytes: ptr(st.StoredBytes),
		Arn: ptr(a.groupARN(group) + ":log-stream:" + st.Name),
	}
	if st.Events > 0 {
		out.FirstEventTimestamp = ptr(st.FirstEvent)
		out.LastEventTimestamp = ptr(st.LastEvent)
		out.LastIngestionTime = ptr(st.LastIngestion)
		out.UploadSequenceToken = ptr(seqToken(st.Events))
	}
	return out
}

func seqToken(n uint64) string { return fmt.Sprintf("%056d", n) }

func (a *API) createLogStream(ctx context.Context, req *awsproto.Request, in *logsshape.CreateLogStreamRequest) (*logsshape.CreateLogStreamResponse, error) {
	g, err := validGroupName("logGroupName", in.LogGroupName)
	if err != nil {
		return nil, err
	}
	s, err := validStreamName("logStreamName", in.LogStreamName)
	if err != nil {
		return nil, err
	}
	if err := a.cfg.Store.CreateStream(g, s); err != nil {
		return nil, err
	}
	return &logsshape.CreateLogStreamResponse{}, nil
}

func (a *API) deleteLogStream(ctx context.Context, req *awsproto.Request, in *logsshape.DeleteLogStreamRequest) (*logsshape.DeleteLogStreamResponse, error) {
	g, err := validGroupName("logGroupName", in.LogGroupName)
	if err != nil {
		return nil, err
	}
	s, err := validStreamName("logStreamName", in.LogStreamName)
	if err != nil {
		return nil, err
	}
	if err := a.cfg.Store.DeleteStream(g, s); err != nil {
		return nil, err
	}
	return &logsshape.DeleteLogStreamResponse{}, nil
}

func (a *API) describeLogStreams(ctx context.Context, req *awsproto.Request, in *logsshape.DescribeLogStreamsRequest) (*logsshape.DescribeLogStreamsResponse, error) {
	g, err := a.groupIdentifier(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	limit, err := limitOf(in.Limit, maxDescribe)
	if err != nil {
		return nil, err
	}
	prefix := ""
	if in.LogStreamNamePrefix != nil {
		if prefix, err = validStreamName("logStreamNamePrefix", in.LogStreamNamePrefix); err != nil {
			return nil, err
		}
	}
	switch in.OrderBy {
	case "", logsshape.OrderByLogStreamName:
	case logsshape.OrderByLastEventTime:
		if prefix != "" {
			return nil, invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
		}
	default:
		return nil, validation(string(in.OrderBy), "orderBy", "Member must satisfy enum value set: [LogStreamName, LastEventTime]")
	}
	// The token is the offset in the ordered list.
	offset := 0
	if in.NextToken != nil {
		s, err := parseNameToken(in.NextToken)
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(strings.TrimPrefix(s, "o/"))
		if err != nil || !strings.HasPrefix(s, "o/") || n < 0 {
			return nil, invalid(MsgInvalidNextToken)
		}
		offset = n
	}
	streams, err := a.cfg.Store.Streams(g)
	if err != nil {
		return nil, err
	}
	var sel []logstore.Stream
	for _, st := range streams {
		if strings.HasPrefix(st.Name, prefix) {
			sel = append(sel, st)
		}
	}
	if in.OrderBy == logsshape.OrderByLastEventTime {
		sort.SliceStable(sel, func(i, j int) bool { return sel[i].LastEvent < sel[j].LastEvent })
	}
	if in.Descending != nil && *in.Descending {
		for i, j := 0, len(sel)-1; i < j; i, j = i+1, j-1 {
			sel[i], sel[j] = sel[j], sel[i]
		}
	}
	out := &logsshape.DescribeLogStreamsResponse{LogStreams: []logsshape.LogStream{}}
	for i := offset; i < len(sel) && len(out.LogStreams) < limit; i++ {
		out.LogStreams = append(out.LogStreams, a.streamShape(g, sel[i]))
	}
	if offset+limit < len(sel) {
		out.NextToken = nameToken("o/" + strconv.Itoa(offset+limit))
	}
	return out, nil
}

func (a *API) putLogEvents(ctx context.Context, req *awsproto.Request, in *logsshape.PutLogEventsRequest) (*logsshape.PutLogEventsResponse, error) {
	g, err := validGroupName("logGroupName", in.LogGroupName)
	if err != nil {
		return nil, err
	}
	s, err := validStreamName("logStreamName", in.LogStreamName)
	if err != nil {
		return nil, err
	}
	if in.LogEvents == nil {
		return nil, missing("logEvents")
	}
	if len(in.LogEvents) < 1 || len(in.LogEvents) > MaxBatchEvents {
		return nil, validation(fmt.Sprintf("[%d events]", len(in.LogEvents)), "logEvents", "Member must have length between 1 and 10000")
	}
	size := 0
	for i, e := range in.LogEvents {
		if e.Timestamp == nil {
			return nil, missing(fmt.Sprintf("logEvents.%d.member.timestamp", i+1))
		}
		if i > 0 && *e.Timestamp < *in.LogEvents[i-1].Timestamp {
			return nil, invalid("Log events in a single PutLogEvents request must be in chronological order.")
		}
		if e.Message == nil {
			return nil, missing(fmt.Sprintf("logEvents.%d.member.message", i+1))
		}
		if len(*e.Message) < 1 {
			return nil, validation("", fmt.Sprintf("logEvents.%d.member.message", i+1), "Member must have length greater than or equal to 1")
		}
		if len(*e.Message) > MaxEventBytes {
			return nil, invalid(fmt.Sprintf("Log event too large: %d bytes exceeds limit of %d", len(*e.Message)+EventOverhead, MaxBatchBytes))
		}
		size += len(*e.Message) + EventOverhead
	}
	if size > MaxBatchBytes {
		return nil, invalid(fmt.Sprintf("Upload too large: %d bytes exceeds limit of %d", size, MaxBatchBytes))
	}
	grp, ok := a.cfg.Store.GetGroup(g)
	if !ok {
		return nil, logsError(CodeResourceNotFound, MsgGroupNotFound)
	}
	now := a.cfg.Now()
	tooOld := now.Add(-tooOldAge).UnixMilli()
	tooNew := now.Add(tooNewAhead).UnixMilli()
	expired := int64(0)
	if grp.RetentionDays > 0 {
		expired = now.Add(-time.Duration(grp.RetentionDays) * 24 * time.Hour).UnixMilli()
	}
	var rej logsshape.RejectedLogEventsInfo
	rejected := false
	batch := make([]logstore.Input, 0, len(in.LogEvents))
	var lo, hi int64
	for i, e := range in.LogEvents {
		ts := *e.Timestamp
		switch {
		case ts > tooNew:
			if rej.TooNewLogEventStartIndex == nil || int32(i) < *rej.TooNewLogEventStartIndex {
				rej.TooNewLogEventStartIndex = ptr(int32(i))
			}
			rejected = true
			continue
		case expired > 0 && ts < expired:
			rej.ExpiredLogEventEndIndex = ptr(int32(i + 1))
			rejected = true
			continue
		case ts < tooOld:
			rej.TooOldLogEventEndIndex = ptr(int32(i + 1))
			rejected = true
			continue
		}
		if len(batch) == 0 || ts < lo {
			lo = ts
		}
		if len(batch) == 0 || ts > hi {
			hi = ts
		}
		batch = append(batch, logstore.Input{Timestamp: ts, Message: *e.Message})
	}
	if hi-lo > maxBatchSpan.Milliseconds() {
		return nil, invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	}
	// A batch is in chronological order (checked above); the store keeps
	// every batch in timestamp order (the agents' too).
	if _, err := a.cfg.Store.Append(g, s, batch); err != nil {
		return nil, err
	}
	out := &logsshape.PutLogEventsResponse{}
	if n, err := a.cfg.Store.Next(g, s); err == nil {
		out.NextSequenceToken = ptr(seqToken(n))
	}
	if rejected {
		out.RejectedLogEventsInfo = &rej
	}
	return out, nil
}

func timeRange(start, end *int64) (logstore.Range, error) {
	var r logstore.Range
	if start != nil {
		if *start < 0 {
			return r, validation(strconv.FormatInt(*start, 10), "startTime", "Member must have value greater than or equal to 0")
		}
		r.Start = *start
	}
	if end != nil {
		if *end < 0 {
			return r, validation(strconv.FormatInt(*end, 10), "endTime", "Member must have value greater than or equal to 0")
		}
		r.End = *end
		if r.End == 0 {
			r.End = -1 // nothing is before 0: an empty range
		}
	}
	return r, nil
}

func outputEvents(evs []logstore.Event) []logsshape.OutputLogEvent {
	out := make([]logsshape.OutputLogEvent, len(evs))
	for i, e := range evs {
		out[i] = logsshape.OutputLogEvent{Timestamp: ptr(e.Timestamp), IngestionTime: ptr(e.Ingestion), Message: ptr(e.Message)}
	}
	return out
}

func (a *API) getLogEvents(ctx context.Context, req *awsproto.Request, in *logsshape.GetLogEventsRequest) (*logsshape.GetLogEventsResponse, error) {
	g, err := a.groupIdentifier(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	s, err := validStreamName("logStreamName", in.LogStreamName)
	if err != nil {
		return nil, err
	}
	limit, err := limitOf(in.Limit, maxGetLimit)
	if err != nil {
		return nil, err
	}
	r, err := timeRange(in.StartTime, in.EndTime)
	if err != nil {
		return nil, err
	}
	if _, err := a.cfg.Store.Next(g, s); err != nil { // the stream exists
		return nil, err
	}
	forward := in.StartFromHead != nil && *in.StartFromHead
	id := identity(g, s)
	var pos *logstore.Key
	tokenGiven := in.NextToken != nil
	if tokenGiven {
		if forward, pos, err = parseGetToken(*in.NextToken, s, id); err != nil {
			return nil, err
		}
	}
	page, err := a.cfg.Store.Read(ctx, g, logstore.Query{Streams: []string{s}, Range: r, After: pos, Backward: !forward,
		Limits: logstore.Limits{Events: limit, Bytes: maxResponseBytes, Overhead: EventOverhead}})
	if err != nil {
		return nil, err
	}
	evs := page.Events
	out := &logsshape.GetLogEventsResponse{Events: outputEvents(evs)}
	if len(evs) == 0 {
		// Nothing (more) this way: the same token again, so a client that
		// loops until the token repeats stops.
		out.NextForwardToken, out.NextBackwardToken = getToken(true, pos, id), getToken(false, pos, id)
		if tokenGiven {
			if forward {
				out.NextForwardToken = in.NextToken
			} else {
				out.NextBackwardToken = in.NextToken
			}
		}
		return out, nil
	}
	first, last := evs[0].Key(), evs[len(evs)-1].Key()
	out.NextForwardToken = getToken(true, &last, id)
	out.NextBackwardToken = getToken(false, &first, id)
	return out, nil
}

func eventID(stream string, seq uint64) string {
	h := fnv.New64a()
	h.Write([]byte(stream))
	return fmt.Sprintf("%020d%036d", h.Sum64(), seq)
}

func (a *API) filterLogEvents(ctx context.Context, req *awsproto.Request, in *logsshape.FilterLogEventsRequest) (*logsshape.FilterLogEventsResponse, error) {
	g, err := a.groupIdentifier(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	limit, err := limitOf(in.Limit, maxGetLimit)
	if err != nil {
		return nil, err
	}
	r, err := timeRange(in.StartTime, in.EndTime)
	if err != nil {
		return nil, err
	}
	if in.LogStreamNames != nil && in.LogStreamNamePrefix != nil {
		return nil, invalid("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
	}
	if in.LogStreamNames != nil && (len(in.LogStreamNames) < 1 || len(in.LogStreamNames) > 100) {
		return nil, validation(fmt.Sprint(in.LogStreamNames), "logStreamNames", "Member must have length between 1 and 100")
	}
	pat := &logfilter.Pattern{}
	if in.FilterPattern != nil {
		if pat, err = logfilter.Parse(*in.FilterPattern); err != nil {
			return nil, invalid(err.Error())
		}
	}
	streams, err := a.cfg.Store.Streams(g)
	if err != nil {
		return nil, err
	}
	var names []string
	switch {
	case in.LogStreamNames != nil:
		want := map[string]bool{}
		for _, n := range in.LogStreamNames {
			want[n] = true
		}
		for _, st := range streams {
			if want[st.Name] {
				names = append(names, st.Name)
			}
		}
	default:
		prefix := ""
		if in.LogStreamNamePrefix != nil {
			prefix = *in.LogStreamNamePrefix
		}
		for _, st := range streams {
			if strings.HasPrefix(st.Name, prefix) {
				names = append(names, st.Name)
			}
		}
	}
	// The query's identity names the streams as asked (not those found,
	// which streams created meanwhile would change).
	asked := slices.Sorted(slices.Values(in.LogStreamNames))
	sel := "names\x00" + strings.Join(asked, "\x00")
	if in.LogStreamNames == nil {
		sel = "prefix\x00" + str(in.LogStreamNamePrefix)
	}
	id := identity(g, sel, str(in.FilterPattern), fmt.Sprint(r.Start), fmt.Sprint(r.End))
	var pos *logstore.Key
	if in.NextToken != nil {
		k, err := parseFilterToken(*in.NextToken, id)
		if err != nil {
			return nil, err
		}
		pos = &k
	}
	page, err := a.cfg.Store.Read(ctx, g, logstore.Query{Streams: names, Range: r, After: pos, Keep: pat.Match,
		Limits: logstore.Limits{Events: limit, Bytes: maxResponseBytes, Overhead: EventOverhead}})
	if err != nil {
		return nil, err
	}
	out := &logsshape.FilterLogEventsResponse{Events: make([]logsshape.FilteredLogEvent, 0, len(page.Events)), SearchedLogStreams: []logsshape.SearchedLogStream{}}
	for _, e := range page.Events {
		out.Events = append(out.Events, logsshape.FilteredLogEvent{LogStreamName: ptr(e.Stream), Timestamp: ptr(e.Timestamp),
			IngestionTime: ptr(e.Ingestion), Message: ptr(e.Message), EventId: ptr(eventID(e.Stream, e.Seq))})
	}
	more := page.More && len(page.Events) > 0
	if more {
		out.NextToken = filterToken(page.Events[len(page.Events)-1].Key(), id)
	}
	for _, name := range names {
		out.SearchedLogStreams = append(out.SearchedLogStreams, logsshape.SearchedLogStream{LogStreamName: ptr(name), SearchedCompletely: ptr(!more)})
	}
	return out, nil
}

// str is the string a pointer member holds, "" when absent.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
