// Package logstore is berth's durable, bounded store of log events: the
// CloudWatch Logs data behind internal/logsapi (and, later, `berth logs`).
// It lives on one server's disk, never in the raft log: log events are
// high-volume data (docs/architecture.md).
//
// Layout under the store's directory:
//
//	meta.json                      groups and streams (names, creation time,
//	                               retention, tags, KMS key, class)
//	g/<hex group>/<hex stream>/    one directory per stream
//	    <20-digit seq>.seg         segment: records appended in arrival order
//	    <20-digit seq>.idx         index of a sealed segment (JSON)
//
// A record is [u32 length][u32 CRC-32C][i64 timestamp ms][i64 ingestion ms]
// [message], length counting the 16 bytes of times and the message. A
// segment is sealed when it reaches SegmentBytes; its index (first
// sequence, count, bytes, smallest and largest timestamp, whether its
// records are in timestamp order, ingestion times) is written then, so
// Open reads the indexes and scans only each stream's open segment.
//
// Invariants: a stream's events are numbered from 0 in storage order (Seq)
// and appends to a stream are serialized, so a segment holds the records
// of Seq First to First+Count-1; every batch is stored in timestamp order
// (stable), a segment being Sorted when its batches also follow each other
// in time (the usual case: one producer writing in order); a segment's
// MinTS/MaxTS bound its records' timestamps.
//
// Order (Read, behind GetLogEvents and FilterLogEvents): events are read
// in CloudWatch's order, by Key: timestamp, then stream name, then Seq
// (within a stream: timestamp order, equal timestamps in storage order),
// whatever order the batches came in. A page continues after (forward) or
// before (backward) a Key, excluded, so paging from the last Key returned
// gives every event once, those appended meanwhile with a larger Key too;
// one appended with a Key before the position (an older timestamp) is not
// seen by that paging, as in CloudWatch. Scan (berth logs, tests) reads in
// storage order. See query.go for how a page is found.
//
// Durability: Append writes one batch with one write call and fsyncs the
// segment before it returns (and fsyncs the directory when it makes a
// segment); an acknowledged batch survives a crash. A torn tail (a record
// cut short or with a bad CRC, from a crash mid-write) is truncated when
// the store opens. meta.json is replaced atomically and synced.
//
// Bounds: no event is held in memory beyond one call. An Append buffers its
// batch only (at most MaxBatchBytes of messages plus 24 bytes a record);
// reads parse segment files in place from a pooled buffer (256 KiB, grown
// only for a record that does not fit) and keep at most the requested
// page: Read searches at most GOMAXPROCS segments at once, each keeping at
// most a page, and merges them into one page (query.go), whatever the
// number of segments and streams. Memory held per stream is its segment
// index (a few dozen bytes per segment).
//
// Retention is enforced by Enforce(now): a segment whose largest timestamp
// is older than now minus the group's retention is deleted whole, so events
// can outlive their retention by up to one segment's span.
package logstore

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"berth.dev/berth/internal/atomicfile"
)

// Defaults and limits.
const (
	DefaultSegmentBytes = 8 << 20
	// MaxBatchBytes bounds one Append's messages (CloudWatch's PutLogEvents
	// limit, which counts 26 bytes per event on top).
	MaxBatchBytes = 1_048_576
	// MaxBatchEvents bounds one Append's events.
	MaxBatchEvents = 10_000
	headerBytes    = 24
)

// Errors.
var (
	ErrGroupExists    = errors.New("logstore: log group exists")
	ErrGroupNotFound  = errors.New("logstore: log group not found")
	ErrStreamExists   = errors.New("logstore: log stream exists")
	ErrStreamNotFound = errors.New("logstore: log stream not found")
	ErrBatchTooLarge  = errors.New("logstore: batch too large")
	ErrClosed         = errors.New("logstore: closed")
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Event is one log event.
type Event struct {
	Timestamp int64 // epoch milliseconds, as sent
	Ingestion int64 // epoch milliseconds, when the store took it
	Message   string
	Seq       uint64 // position in its stream, from 0
	Stream    string // set by Read
}

// Group is a log group's metadata.
type Group struct {
	Name          string            `json:"name"`
	Created       int64             `json:"created"` // epoch ms
	RetentionDays int32             `json:"retentionDays,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
	KMSKeyID      string            `json:"kmsKeyId,omitempty"`
	Class         string            `json:"class,omitempty"`
	StoredBytes   int64             `json:"-"`
}

// Stream is a log stream's metadata and figures.
type Stream struct {
	Name          string
	Created       int64 // epoch ms
	FirstEvent    int64 // smallest timestamp stored, 0 when empty
	LastEvent     int64 // largest timestamp stored, 0 when empty
	LastIngestion int64
	StoredBytes   int64
	Events        uint64 // events stored
}

type segment struct {
	First      uint64 `json:"first"` // seq of its first record
	Count      uint64 `json:"count"`
	Bytes      int64  `json:"bytes"`
	MinTS      int64  `json:"minTs"`
	MaxTS      int64  `json:"maxTs"`
	LastIngest int64  `json:"lastIngest"`
	// Sorted tells the records are in timestamp order (an index written
	// before it was kept reads as unsorted: safe, only slower).
	Sorted bool  `json:"sorted,omitempty"`
	LastTS int64 `json:"lastTs,omitempty"` // the last record's timestamp
	sealed bool
}

type stream struct {
	mu      sync.RWMutex
	name    string
	created int64
	dir     string
	segs    []*segment // ascending First; the last may be open
	next    uint64     // seq of the next event
}

type group struct {
	Group
	dir     string
	streams map[string]*stream
}

// Options configure a Store.
type Options struct {
	// Now is the clock (ingestion times, retention); default time.Now.
	Now func() time.Time
	// SegmentBytes is the size at which a segment is sealed; default
	// DefaultSegmentBytes.
	SegmentBytes int64
	// NoSync skips fsync (tests and benchmarks of the page cache only).
	NoSync bool
}

// Store is the log store. Its methods are safe for concurrent use.
type Store struct {
	dir    string
	opt    Options
	mu     sync.RWMutex // groups, streams maps and meta.json
	groups map[string]*group
	closed bool
}

type metaFile struct {
	Groups []metaGroup `json:"groups"`
}

type metaGroup struct {
	Group
	Streams []metaStream `json:"streams,omitempty"`
}

type metaStream struct {
	Name    string `json:"name"`
	Created int64  `json:"created"`
}

// Open opens (or makes) the store in dir, repairing torn segment tails.
func Open(dir string, opt Options) (*Store, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.SegmentBytes <= 0 {
		opt.SegmentBytes = DefaultSegmentBytes
	}
	if err := os.MkdirAll(filepath.Join(dir, "g"), 0o700); err != nil {
		return nil, fmt.Errorf("logstore: %w", err)
	}
	s := &Store{dir: dir, opt: opt, groups: map[string]*group{}}
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("logstore: %w", err)
	}
	if err == nil {
		var m metaFile
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("logstore: meta.json: %w", err)
		}
		for _, mg := range m.Groups {
			g := &group{Group: mg.Group, dir: s.groupDir(mg.Name), streams: map[string]*stream{}}
			for _, ms := range mg.Streams {
				st := &stream{name: ms.Name, created: ms.Created, dir: filepath.Join(g.dir, hexName(ms.Name))}
				if err := st.load(); err != nil {
					return nil, err
				}
				g.streams[ms.Name] = st
			}
			s.groups[mg.Name] = g
		}
	}
	return s, nil
}

// Close closes the store. Nothing is buffered, so it only refuses later calls.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

func hexName(n string) string { return fmt.Sprintf("%x", n) }

func (s *Store) groupDir(name string) string { return filepath.Join(s.dir, "g", hexName(name)) }

func segName(first uint64, ext string) string { return fmt.Sprintf("%020d.%s", first, ext) }

// load reads a stream's segment indexes and scans its open segment,
// truncating a torn tail.
func (st *stream) load() error {
	if err := os.MkdirAll(st.dir, 0o700); err != nil {
		return fmt.Errorf("logstore: %w", err)
	}
	ents, err := os.ReadDir(st.dir)
	if err != nil {
		return fmt.Errorf("logstore: %w", err)
	}
	var firsts []uint64
	for _, e := range ents {
		n, ok := strings.CutSuffix(e.Name(), ".seg")
		if !ok {
			continue
		}
		f, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			continue
		}
		firsts = append(firsts, f)
	}
	sort.Slice(firsts, func(i, j int) bool { return firsts[i] < firsts[j] })
	for i, f := range firsts {
		var seg *segment
		if i < len(firsts)-1 {
			if b, err := os.ReadFile(filepath.Join(st.dir, segName(f, "idx"))); err == nil {
				seg = &segment{}
				if json.Unmarshal(b, seg) != nil || seg.First != f {
					seg = nil
				} else {
					seg.sealed = true
				}
			}
		}
		if seg == nil {
			seg, err = scanSegment(filepath.Join(st.dir, segName(f, "seg")), f, i == len(firsts)-1)
			if err != nil {
				return err
			}
			seg.sealed = i < len(firsts)-1
		}
		st.segs = append(st.segs, seg)
		st.next = seg.First + seg.Count
	}
	return nil
}

// scanSegment reads a segment's records to index it; repair truncates a
// torn tail.
func scanSegment(path string, first uint64, repair bool) (*segment, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("logstore: %w", err)
	}
	defer f.Close()
	seg := &segment{First: first}
	var good int64
	rr := newRecordReader(f)
	defer rr.release()
	for {
		rec, rerr := rr.next()
		if rerr != nil {
			if rerr != io.EOF {
				err = rerr
			}
			break
		}
		seg.add(Event{Timestamp: rec.ts, Ingestion: rec.ingest}, int64(rec.size))
		good += int64(rec.size)
	}
	if err != nil && !errors.Is(err, errTorn) {
		return nil, fmt.Errorf("logstore: %s: %w", path, err)
	}
	if err != nil {
		if !repair {
			return nil, fmt.Errorf("logstore: %s: %w", path, err)
		}
		if err := f.Truncate(good); err != nil {
			return nil, fmt.Errorf("logstore: truncate torn tail: %w", err)
		}
		if err := f.Sync(); err != nil {
			return nil, fmt.Errorf("logstore: %w", err)
		}
	}
	return seg, nil
}

func (seg *segment) add(ev Event, size int64) {
	switch {
	case seg.Count == 0:
		seg.Sorted = true
	case ev.Timestamp < seg.LastTS:
		seg.Sorted = false
	}
	seg.LastTS = ev.Timestamp
	if seg.Count == 0 || ev.Timestamp < seg.MinTS {
		seg.MinTS = ev.Timestamp
	}
	if seg.Count == 0 || ev.Timestamp > seg.MaxTS {
		seg.MaxTS = ev.Timestamp
	}
	if ev.Ingestion > seg.LastIngest {
		seg.LastIngest = ev.Ingestion
	}
	seg.Count++
	seg.Bytes += size
}

func (s *Store) save() error {
	var m metaFile
	names := make([]string, 0, len(s.groups))
	for n := range s.groups {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		g := s.groups[n]
		mg := metaGroup{Group: g.Group}
		for _, st := range sortedStreams(g) {
			mg.Streams = append(mg.Streams, metaStream{Name: st.name, Created: st.created})
		}
		m.Groups = append(m.Groups, mg)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(s.dir, "meta.json"), b, 0o600, !s.opt.NoSync); err != nil {
		return fmt.Errorf("logstore: %w", err)
	}
	return nil
}

func sortedStreams(g *group) []*stream {
	out := make([]*stream, 0, len(g.streams))
	for _, st := range g.streams {
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func cloneTags(t map[string]string) map[string]string {
	if len(t) == 0 {
		return nil
	}
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

// CreateGroup makes a log group; Created is set from the clock.
func (s *Store) CreateGroup(g Group) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if _, ok := s.groups[g.Name]; ok {
		return ErrGroupExists
	}
	g.Created = s.opt.Now().UnixMilli()
	g.Tags = cloneTags(g.Tags)
	ng := &group{Group: g, dir: s.groupDir(g.Name), streams: map[string]*stream{}}
	if err := os.MkdirAll(ng.dir, 0o700); err != nil {
		return fmt.Errorf("logstore: %w", err)
	}
	s.groups[g.Name] = ng
	if err := s.save(); err != nil {
		delete(s.groups, g.Name)
		return err
	}
	return nil
}

// DeleteGroup deletes a log group and its events.
func (s *Store) DeleteGroup(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	g, ok := s.groups[name]
	if !ok {
		return ErrGroupNotFound
	}
	delete(s.groups, name)
	if err := s.save(); err != nil {
		s.groups[name] = g
		return err
	}
	return os.RemoveAll(g.dir)
}

// UpdateGroup changes a group's metadata with fn (retention, tags).
func (s *Store) UpdateGroup(name string, fn func(g *Group)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	g, ok := s.groups[name]
	if !ok {
		return ErrGroupNotFound
	}
	old := g.Group
	old.Tags = cloneTags(g.Tags)
	fn(&g.Group)
	g.Name = old.Name
	if err := s.save(); err != nil {
		g.Group = old
		return err
	}
	return nil
}

// GetGroup returns a group's metadata with its stored bytes.
func (s *Store) GetGroup(name string) (Group, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.groups[name]
	if !ok {
		return Group{}, false
	}
	return g.snapshot(), true
}

func (g *group) snapshot() Group {
	out := g.Group
	out.Tags = cloneTags(g.Tags)
	for _, st := range g.streams {
		out.StoredBytes += st.info().StoredBytes
	}
	return out
}

// Groups returns the groups in name order.
func (s *Store) Groups() []Group {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Group, 0, len(s.groups))
	for _, g := range s.groups {
		out = append(out, g.snapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// CreateStream makes a log stream in a group.
func (s *Store) CreateStream(groupName, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	g, ok := s.groups[groupName]
	if !ok {
		return ErrGroupNotFound
	}
	if _, ok := g.streams[name]; ok {
		return ErrStreamExists
	}
	st := &stream{name: name, created: s.opt.Now().UnixMilli(), dir: filepath.Join(g.dir, hexName(name))}
	_ = os.RemoveAll(st.dir)
	if err := os.MkdirAll(st.dir, 0o700); err != nil {
		return fmt.Errorf("logstore: %w", err)
	}
	g.streams[name] = st
	if err := s.save(); err != nil {
		delete(g.streams, name)
		return err
	}
	return nil
}

// DeleteStream deletes a stream and its events.
func (s *Store) DeleteStream(groupName, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	g, ok := s.groups[groupName]
	if !ok {
		return ErrGroupNotFound
	}
	st, ok := g.streams[name]
	if !ok {
		return ErrStreamNotFound
	}
	delete(g.streams, name)
	if err := s.save(); err != nil {
		g.streams[name] = st
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.segs = nil
	return os.RemoveAll(st.dir)
}

// Streams returns a group's streams in name order.
func (s *Store) Streams(groupName string) ([]Stream, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.groups[groupName]
	if !ok {
		return nil, ErrGroupNotFound
	}
	var out []Stream
	for _, st := range sortedStreams(g) {
		out = append(out, st.info())
	}
	return out, nil
}

func (st *stream) info() Stream {
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := Stream{Name: st.name, Created: st.created}
	for i, seg := range st.segs {
		if seg.Count == 0 {
			continue
		}
		if out.Events == 0 || seg.MinTS < out.FirstEvent {
			out.FirstEvent = seg.MinTS
		}
		if out.Events == 0 || seg.MaxTS > out.LastEvent {
			out.LastEvent = seg.MaxTS
		}
		if seg.LastIngest > out.LastIngestion {
			out.LastIngestion = seg.LastIngest
		}
		out.StoredBytes += seg.Bytes
		out.Events += seg.Count
		_ = i
	}
	return out
}

func (s *Store) stream(groupName, name string) (*group, *stream, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, nil, ErrClosed
	}
	g, ok := s.groups[groupName]
	if !ok {
		return nil, nil, ErrGroupNotFound
	}
	st, ok := g.streams[name]
	if !ok {
		return nil, nil, ErrStreamNotFound
	}
	return g, st, nil
}

// Input is an event to append.
type Input struct {
	Timestamp int64
	Message   string
}

// Append adds a batch of events to a stream, durably (fsync) before it
// returns unless NoSync. The batch is stored in timestamp order (equal
// timestamps in the order given); events is not modified. It returns the ingestion time given to them.
func (s *Store) Append(groupName, streamName string, events []Input) (int64, error) {
	if len(events) > MaxBatchEvents {
		return 0, ErrBatchTooLarge
	}
	size := 0
	for _, e := range events {
		size += len(e.Message)
	}
	if size > MaxBatchBytes {
		return 0, ErrBatchTooLarge
	}
	_, st, err := s.stream(groupName, streamName)
	if err != nil {
		return 0, err
	}
	now := s.opt.Now().UnixMilli()
	if len(events) == 0 {
		return now, nil
	}
	byTime := func(x, y Input) int { return cmp.Compare(x.Timestamp, y.Timestamp) }
	if !slices.IsSortedFunc(events, byTime) {
		events = slices.Clone(events)
		slices.SortStableFunc(events, byTime)
	}
	buf := make([]byte, 0, size+headerBytes*len(events))
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.dir == "" || (len(st.segs) == 0 && st.next == 0 && !dirExists(st.dir)) {
		return 0, ErrStreamNotFound
	}
	var seg *segment
	if n := len(st.segs); n > 0 && !st.segs[n-1].sealed {
		seg = st.segs[n-1]
	}
	newSeg := seg == nil
	if newSeg {
		seg = &segment{First: st.next}
	}
	grown := *seg
	for _, e := range events {
		start := len(buf)
		buf = append(buf, make([]byte, headerBytes)...)
		binary.LittleEndian.PutUint32(buf[start:], uint32(16+len(e.Message)))
		binary.LittleEndian.PutUint64(buf[start+8:], uint64(e.Timestamp))
		binary.LittleEndian.PutUint64(buf[start+16:], uint64(now))
		buf = append(buf, e.Message...)
		binary.LittleEndian.PutUint32(buf[start+4:], crc32.Checksum(buf[start+8:], crcTable))
		grown.add(Event{Timestamp: e.Timestamp, Ingestion: now}, int64(headerBytes+len(e.Message)))
	}
	path := filepath.Join(st.dir, segName(seg.First, "seg"))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return 0, fmt.Errorf("logstore: %w", err)
	}
	_, werr := f.Write(buf)
	if werr == nil && !s.opt.NoSync {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		// A partial write is a torn tail: cut it now so later batches
		// follow whole records.
		_ = os.Truncate(path, seg.Bytes)
		return 0, fmt.Errorf("logstore: append: %w", werr)
	}
	if newSeg && !s.opt.NoSync {
		_ = atomicfile.SyncDir(st.dir)
	}
	*seg = grown
	if newSeg {
		st.segs = append(st.segs, seg)
	}
	st.next = seg.First + seg.Count
	if seg.Bytes >= s.opt.SegmentBytes {
		st.seal(seg, !s.opt.NoSync)
	}
	return now, nil
}

func dirExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// seal writes a full segment's index; later appends go to a new segment.
func (st *stream) seal(seg *segment, sync bool) {
	b, _ := json.Marshal(seg)
	// Without its index a segment is scanned at open: not fatal.
	_ = atomicfile.Write(filepath.Join(st.dir, segName(seg.First, "idx")), b, 0o600, sync)
	seg.sealed = true
}

// Enforce deletes, in every group with a retention, the segments whose
// newest event is older than now minus the retention. It returns the
// number of segments deleted.
func (s *Store) Enforce(now time.Time) (int, error) {
	s.mu.RLock()
	type job struct {
		st     *stream
		cutoff int64
	}
	var jobs []job
	for _, g := range s.groups {
		if g.RetentionDays <= 0 {
			continue
		}
		cutoff := now.Add(-time.Duration(g.RetentionDays) * 24 * time.Hour).UnixMilli()
		for _, st := range g.streams {
			jobs = append(jobs, job{st, cutoff})
		}
	}
	s.mu.RUnlock()
	n := 0
	var firstErr error
	for _, j := range jobs {
		j.st.mu.Lock()
		keep := j.st.segs[:0]
		for _, seg := range j.st.segs {
			if seg.Count > 0 && seg.MaxTS < j.cutoff {
				err := os.Remove(filepath.Join(j.st.dir, segName(seg.First, "seg")))
				if err != nil && !errors.Is(err, os.ErrNotExist) {
					if firstErr == nil {
						firstErr = err
					}
					keep = append(keep, seg)
					continue
				}
				_ = os.Remove(filepath.Join(j.st.dir, segName(seg.First, "idx")))
				n++
				continue
			}
			keep = append(keep, seg)
		}
		if len(keep) == 0 && j.st.next > 0 && len(j.st.segs) > 0 {
			// An empty segment keeps the stream's next sequence across a
			// restart, so readers' tokens stay valid.
			path := filepath.Join(j.st.dir, segName(j.st.next, "seg"))
			if f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600); err == nil {
				f.Close()
				keep = append(keep, &segment{First: j.st.next})
			}
		}
		j.st.segs = keep
		j.st.mu.Unlock()
	}
	return n, firstErr
}
