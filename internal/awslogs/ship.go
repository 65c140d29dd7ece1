package awslogs

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"berth.dev/berth/internal/driver"
)

// Limits of one batch (PutLogEvents'): events, bytes counting 26 bytes of
// overhead per event, and the largest event message.
const (
	MaxBatchEvents   = 10000
	MaxBatchBytes    = 1 << 20
	EventOverhead    = 26
	MaxEventBytes    = 256*1024 - EventOverhead
	DefaultFlushTime = time.Second
)

// Event is one log event.
type Event struct {
	Timestamp int64 // epoch ms
	Message   string
}

// Batch is what a Sink receives: events of one stream, in order.
type Batch struct {
	Group, Stream string
	CreateGroup   bool
	Events        []Event
}

// Sink stores batches (the agent's client of the server's awslogs
// endpoint). An error wrapping ErrPermanent is not retried.
type Sink interface {
	Put(ctx context.Context, b Batch) error
}

// ErrPermanent marks a Sink error that retrying cannot fix (the log group
// does not exist and awslogs-create-group is not "true").
var ErrPermanent = errors.New("permanent")

// Permanent marks err as permanent (errors.Is(_, ErrPermanent)), its text
// unchanged.
func Permanent(err error) error { return permanentError{err} }

type permanentError struct{ err error }

func (e permanentError) Error() string        { return e.err.Error() }
func (e permanentError) Unwrap() error        { return e.err }
func (e permanentError) Is(target error) bool { return target == ErrPermanent }

// Position is a line of a runtime's log: its timestamp and its rank among
// the lines with that timestamp (1 for the first). The cursor file holds the
// position of the last line shipped.
type Position struct {
	Time int64 `json:"time"` // unix ns
	N    int   `json:"n"`
}

func (p Position) after(q Position) bool {
	return p.Time > q.Time || p.Time == q.Time && p.N > q.N
}

// Config is one container's shipping.
type Config struct {
	Options Options
	Stream  string // StreamName(...)
	Sink    Sink
	// Cursor is the cursor file ("" keeps none).
	Cursor string
	Log    *slog.Logger
	// FlushEvery overrides DefaultFlushTime (tests).
	FlushEvery time.Duration
}

// Shipper ships one container's log.
type Shipper struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	dropped int64
	shipped int64
}

// New returns a shipper.
func New(cfg Config) *Shipper {
	if cfg.FlushEvery == 0 {
		cfg.FlushEvery = DefaultFlushTime
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Shipper{cfg: cfg, log: cfg.Log}
}

// Dropped is how many lines non-blocking mode dropped.
func (s *Shipper) Dropped() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Shipped is how many events the sink accepted.
func (s *Shipper) Shipped() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shipped
}

// line is a runtime log line with its position.
type line struct {
	pos  Position
	time time.Time
	text string
}

// Run ships the lines of src until it ends (io.EOF: the container exited
// and its output is drained; everything read is then shipped) or ctx does.
// Lines at or before the cursor are skipped.
func (s *Shipper) Run(ctx context.Context, src driver.LogStream) error {
	defer src.Close()
	cur := s.readCursor()
	lines := make(chan line)
	var q *queue
	if s.cfg.Options.NonBlocking {
		q = newQueue(s.cfg.Options.MaxBuffer)
	}
	readErr := make(chan error, 1)
	go func() {
		if q != nil {
			defer q.close()
		} else {
			defer close(lines)
		}
		var last Position
		for {
			l, err := src.Next()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				readErr <- err
				return
			}
			p := Position{Time: l.Time.UnixNano(), N: 1}
			if p.Time == last.Time {
				p.N = last.N + 1
			}
			last = p
			if !p.after(cur) {
				continue
			}
			ln := line{pos: p, time: l.Time, text: string(l.Text)}
			if q != nil {
				if n := q.push(ln); n > 0 {
					s.mu.Lock()
					s.dropped += int64(n)
					s.mu.Unlock()
				}
				continue
			}
			select {
			case lines <- ln:
			case <-ctx.Done():
				readErr <- ctx.Err()
				return
			}
		}
	}()
	if q != nil {
		// Non-blocking: the reader never waits for shipping; this
		// goroutine feeds the loop from the buffer.
		go func() {
			defer close(lines)
			for {
				ln, ok := q.pop(ctx)
				if !ok {
					return
				}
				select {
				case lines <- ln:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	if err := s.loop(ctx, lines); err != nil {
		return err
	}
	return <-readErr
}

// loop joins, batches and ships the lines until lines closes.
func (s *Shipper) loop(ctx context.Context, lines <-chan line) error {
	tick := time.NewTicker(s.cfg.FlushEvery)
	defer tick.Stop()
	j := joiner{start: s.cfg.Options.Start}
	var b batcher
	fresh := false // a line arrived since the last tick
	for {
		select {
		case ln, ok := <-lines:
			if !ok {
				if ev, ok := j.flush(); ok {
					if err := s.add(ctx, &b, ev); err != nil {
						return err
					}
				}
				return s.ship(ctx, &b)
			}
			fresh = true
			for _, ev := range j.add(ln) {
				if err := s.add(ctx, &b, ev); err != nil {
					return err
				}
			}
		case <-tick.C:
			// A pending multi-line event is complete once a flush
			// interval passed without a new line (as Docker's driver).
			if !fresh {
				if ev, ok := j.flush(); ok {
					if err := s.add(ctx, &b, ev); err != nil {
						return err
					}
				}
			}
			fresh = false
			if err := s.ship(ctx, &b); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// add puts ev in the batch, shipping the batch first when ev does not fit.
func (s *Shipper) add(ctx context.Context, b *batcher, ev pending) error {
	if !b.fits(ev) {
		if err := s.ship(ctx, b); err != nil {
			return err
		}
	}
	b.add(ev)
	return nil
}

// ship sends the batch, retrying (1 s to 30 s apart) until it is accepted,
// refused for good (logged; the events are lost) or ctx ends. The cursor
// moves past the batch's lines once it is accepted or refused.
func (s *Shipper) ship(ctx context.Context, b *batcher) error {
	if len(b.events) == 0 {
		return nil
	}
	batch := Batch{Group: s.cfg.Options.Group, Stream: s.cfg.Stream, CreateGroup: s.cfg.Options.CreateGroup, Events: b.events}
	wait := time.Second
	for {
		err := s.cfg.Sink.Put(ctx, batch)
		if err == nil {
			s.mu.Lock()
			s.shipped += int64(len(b.events))
			s.mu.Unlock()
			break
		}
		if errors.Is(err, ErrPermanent) {
			s.log.Error("awslogs: log events refused; they are dropped", "group", batch.Group, "stream", batch.Stream, "events", len(batch.Events), "err", err)
			break
		}
		s.log.Warn("awslogs: shipping log events failed; retrying", "group", batch.Group, "stream", batch.Stream, "err", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		wait = min(wait*2, 30*time.Second)
	}
	s.writeCursor(b.last)
	b.reset()
	return nil
}

func (s *Shipper) readCursor() Position {
	var p Position
	if s.cfg.Cursor == "" {
		return p
	}
	if data, err := os.ReadFile(s.cfg.Cursor); err == nil {
		_ = json.Unmarshal(data, &p)
	}
	return p
}

// writeCursor replaces the cursor file atomically (not fsynced: a crash of
// the host may ship again the last second's lines).
func (s *Shipper) writeCursor(p Position) {
	if s.cfg.Cursor == "" {
		return
	}
	data, _ := json.Marshal(p)
	tmp := s.cfg.Cursor + ".tmp"
	if err := os.MkdirAll(filepath.Dir(s.cfg.Cursor), 0o700); err == nil {
		if err = os.WriteFile(tmp, data, 0o600); err == nil {
			err = os.Rename(tmp, s.cfg.Cursor)
		}
		if err == nil {
			return
		}
	}
	s.log.Warn("awslogs: cursor not saved", "file", s.cfg.Cursor)
}

// pending is an event being built with the position of its last line.
type pending struct {
	Event
	last Position
}

// joiner joins lines into events: with a start pattern, lines that do not
// match it continue the event before them.
type joiner struct {
	start *regexp.Regexp
	cur   *pending
}

func (j *joiner) add(ln line) []pending {
	ev := pending{Event: Event{Timestamp: ln.time.UnixMilli(), Message: ln.text}, last: ln.pos}
	if j.start == nil {
		return split(ev)
	}
	if j.cur != nil && !j.start.MatchString(ln.text) {
		if len(j.cur.Message)+1+len(ln.text) <= MaxEventBytes {
			j.cur.Message += "\n" + ln.text
			j.cur.last = ln.pos
			return nil
		}
	}
	var out []pending
	if j.cur != nil {
		out = split(*j.cur)
	}
	j.cur = &ev
	return out
}

func (j *joiner) flush() (pending, bool) {
	if j.cur == nil {
		return pending{}, false
	}
	ev := *j.cur
	j.cur = nil
	return ev, true
}

// split cuts an event longer than MaxEventBytes into several (as the
// awslogs driver does).
func split(ev pending) []pending {
	if len(ev.Message) <= MaxEventBytes {
		return []pending{ev}
	}
	var out []pending
	for m := ev.Message; m != ""; {
		n := min(len(m), MaxEventBytes)
		out = append(out, pending{Event: Event{Timestamp: ev.Timestamp, Message: m[:n]}, last: ev.last})
		m = m[n:]
	}
	return out
}

// batcher collects events within PutLogEvents' limits.
type batcher struct {
	events []Event
	bytes  int
	last   Position
}

func (b *batcher) fits(ev pending) bool {
	return len(b.events) < MaxBatchEvents && b.bytes+len(ev.Message)+EventOverhead <= MaxBatchBytes
}

func (b *batcher) add(ev pending) {
	b.events = append(b.events, ev.Event)
	b.bytes += len(ev.Message) + EventOverhead
	b.last = ev.last
}

func (b *batcher) reset() {
	b.events, b.bytes = nil, 0
}

// queue is non-blocking mode's buffer: lines up to max bytes; pushing past
// it drops the oldest.
type queue struct {
	mu     sync.Mutex
	lines  []line
	bytes  int
	max    int
	closed bool
	ready  chan struct{} // signalled on push and close
}

func newQueue(max int) *queue { return &queue{max: max, ready: make(chan struct{}, 1)} }

// push adds ln and returns how many lines were dropped for it.
func (q *queue) push(ln line) int {
	q.mu.Lock()
	dropped := 0
	q.lines = append(q.lines, ln)
	q.bytes += len(ln.text)
	for q.bytes > q.max && len(q.lines) > 1 {
		q.bytes -= len(q.lines[0].text)
		q.lines[0] = line{}
		q.lines = q.lines[1:]
		dropped++
	}
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return dropped
}

// pop takes the oldest line, waiting for one; false once the queue is
// closed and empty, or ctx ends.
func (q *queue) pop(ctx context.Context) (line, bool) {
	for {
		q.mu.Lock()
		if len(q.lines) > 0 {
			ln := q.lines[0]
			q.lines[0] = line{}
			q.lines = q.lines[1:]
			q.bytes -= len(ln.text)
			q.mu.Unlock()
			return ln, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return line{}, false
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
			return line{}, false
		}
	}
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}
