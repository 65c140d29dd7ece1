package fsm

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/state"
)

// Machine applies committed commands to the state. Apply, Persist and Restore
// are called by the consensus layer from one goroutine; Snapshot and Store
// are safe to call from any goroutine.
type Machine struct {
	store atomic.Pointer[state.Store]
	namer arn.Namer
	log   *slog.Logger
}

// New returns a Machine over an empty state.
func New(namer arn.Namer, log *slog.Logger) *Machine {
	m := &Machine{namer: namer, log: log}
	m.store.Store(state.New())
	return m
}

// Snapshot returns a read-only view of the current state.
func (m *Machine) Snapshot() *state.Snapshot { return m.store.Load().Snapshot() }

// Namer returns the ARN namer the machine builds ARNs with.
func (m *Machine) Namer() arn.Namer { return m.namer }

// Result is the outcome of applying one command: the value the proposer
// answers with, or an error (an *apierr.Error for a rule the command broke).
type Result struct {
	Value any
	Err   error
}

type applier func(m *Machine, tx *state.Txn, version uint8, payload []byte) (any, error)

var appliers = map[Type]applier{}

// register installs the apply function of command type C.
func register[C Command](f func(m *Machine, tx *state.Txn, c *C) (any, error)) {
	var zero C
	t := zero.Type()
	if _, dup := appliers[t]; dup {
		panic(fmt.Sprintf("fsm: command type %d registered twice", t))
	}
	appliers[t] = func(m *Machine, tx *state.Txn, version uint8, payload []byte) (any, error) {
		if version > zero.Version() {
			return nil, fmt.Errorf("command type %d version %d is newer than this server understands (%d)", t, version, zero.Version())
		}
		c := new(C)
		if err := json.Unmarshal(payload, c); err != nil {
			return nil, fmt.Errorf("decode command type %d: %w", t, err)
		}
		return f(m, tx, c)
	}
}

// Apply applies one log entry. Entries that break a rule leave the state
// unchanged and return the rule's *apierr.Error.
func (m *Machine) Apply(entry []byte) Result {
	t, version, payload, err := header(entry)
	if err != nil {
		return Result{Err: err}
	}
	ap, ok := appliers[t&^IgnorableFlag]
	if !ok {
		if t&IgnorableFlag != 0 {
			m.log.Warn("skipping unknown ignorable command", "type", uint8(t&^IgnorableFlag))
			return Result{}
		}
		// Skipping a command every other server applies would fork the state.
		panic(fmt.Sprintf("fsm: unknown command type %d: this server is older than the log it replays", t))
	}
	tx := m.store.Load().Txn()
	v, err := ap(m, tx, version, payload)
	if err != nil {
		tx.Abort()
		if _, ok := apierr.As(err); !ok {
			m.log.Error("command failed", "type", uint8(t), "err", err)
		}
		return Result{Err: err}
	}
	tx.Commit()
	return Result{Value: v}
}

// snapshotHeader opens every persisted snapshot.
type snapshotHeader struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

type snapshotRecord struct {
	Table  string          `json:"t"`
	Record json.RawMessage `json:"r"`
}

const snapshotFormat = "berth-state"

// Persist writes snap to w as JSON lines: a header, then one line per record.
func Persist(snap *state.Snapshot, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(snapshotHeader{Format: snapshotFormat, Version: 1}); err != nil {
		return fmt.Errorf("persist header: %w", err)
	}
	err := snap.Dump(func(table string, rec any) error {
		raw, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("persist %s: %w", table, err)
		}
		return enc.Encode(snapshotRecord{Table: table, Record: raw})
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// Restore replaces the whole state with the snapshot read from r.
func (m *Machine) Restore(r io.Reader) error {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<16))
	var h snapshotHeader
	if err := dec.Decode(&h); err != nil {
		return fmt.Errorf("restore header: %w", err)
	}
	if h.Format != snapshotFormat || h.Version != 1 {
		return fmt.Errorf("restore: unsupported snapshot %q version %d", h.Format, h.Version)
	}
	store := state.New()
	tx := store.Txn()
	for {
		var rec snapshotRecord
		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tx.Abort()
			return fmt.Errorf("restore record: %w", err)
		}
		if err := tx.Load(rec.Table, rec.Record); err != nil {
			tx.Abort()
			return fmt.Errorf("restore: %w", err)
		}
	}
	tx.Commit()
	m.store.Store(store)
	return nil
}
