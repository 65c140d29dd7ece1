package fsm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/elb"
	"berth.dev/berth/internal/fsm/wire"
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

// UnknownEntryError reports a log entry this server cannot apply: its type
// or its version is newer than the server. Skipping it would make this
// server's state differ from its peers', so the server must stop.
type UnknownEntryError struct {
	Index   uint64
	Type    wire.Type
	Version uint8
	// Known is the newest version of Type this server applies (0: none).
	Known uint8
}

func (e *UnknownEntryError) Error() string {
	if e.Known == 0 {
		return fmt.Sprintf("raft log entry %d has command type %d version %d, which this server does not know: it was written by a newer berth; run that version (or newer) on this data dir",
			e.Index, uint8(e.Type&^wire.IgnorableFlag), e.Version)
	}
	return fmt.Sprintf("raft log entry %d is %s version %d, newer than this server applies (up to version %d): it was written by a newer berth; run that version (or newer) on this data dir",
		e.Index, e.Type, e.Version, e.Known)
}

// Check reports whether this server can apply entry (index names it in the
// error): an *UnknownEntryError when its type or version is unknown and the
// type is not marked skippable. It does not decode the payload (Decode
// does).
func Check(index uint64, entry []byte) error {
	t, version, _, err := wire.Split(entry)
	if err != nil {
		return fmt.Errorf("raft log entry %d: %w", index, err)
	}
	ap, ok := appliers[t&^wire.IgnorableFlag]
	switch {
	case !ok && t&wire.IgnorableFlag != 0:
		return nil
	case !ok:
		return &UnknownEntryError{Index: index, Type: t, Version: version}
	case ap.decode[version] == nil:
		return &UnknownEntryError{Index: index, Type: t, Version: version, Known: ap.current}
	}
	return nil
}

// Decode returns the command of a log entry, upgraded to its type's current
// version.
func Decode(entry []byte) (wire.Command, error) {
	t, version, payload, err := wire.Split(entry)
	if err != nil {
		return nil, err
	}
	if err := Check(0, entry); err != nil {
		return nil, err
	}
	ap, ok := appliers[t&^wire.IgnorableFlag]
	if !ok {
		return nil, fmt.Errorf("fsm: skippable command %s is unknown", t)
	}
	return ap.decode[version](payload)
}

// Apply applies the log entry at index. Entries that break a rule leave the
// state unchanged and return the rule's *apierr.Error. An entry this server
// cannot apply (see Check) panics: the consensus layer cannot refuse an
// entry, and applying the entries after it would diverge from the peers.
// Servers check their log with Check before they start (raftnode), so this
// only happens when a newer server leads a cluster this one is part of.
func (m *Machine) Apply(index uint64, entry []byte) Result {
	if err := Check(index, entry); err != nil {
		var unknown *UnknownEntryError
		if errors.As(err, &unknown) {
			m.log.Error("stopping: cannot apply a committed command", "index", index, "err", err)
			panic(err.Error())
		}
		return Result{Err: err}
	}
	t, version, payload, _ := wire.Split(entry)
	ap, ok := appliers[t&^wire.IgnorableFlag]
	if !ok {
		m.log.Warn("skipping unknown skippable command", "index", index, "type", uint8(t&^wire.IgnorableFlag))
		return Result{}
	}
	c, err := ap.decode[version](payload)
	if err != nil {
		// Written by a server that encodes this version otherwise (a
		// member this one does not know): applying less than it meant, or
		// skipping it, would diverge from the servers that applied it.
		err = fmt.Errorf("raft log entry %d (%s version %d) cannot be decoded by this server: %w", index, t, version, err)
		m.log.Error("stopping: cannot apply a committed command", "index", index, "err", err)
		panic(err.Error())
	}
	tx := m.store.Load().Txn()
	v, err := m.applyGuarded(ap, tx, c, index)
	if err != nil {
		tx.Abort()
		var elbErr *elb.Error
		if _, ok := apierr.As(err); !ok && !errors.As(err, &elbErr) {
			level := slog.LevelError
			if errors.Is(err, ErrStaleRound) || errors.Is(err, ErrAddressTaken) {
				level = slog.LevelDebug // an optimistic conflict: the controller computes again
			}
			m.log.Log(context.Background(), level, "command failed", "index", index, "type", t.String(), "err", err)
		}
		return Result{Err: err}
	}
	if err := tx.SetIndex(index); err != nil {
		tx.Abort()
		return Result{Err: err}
	}
	tx.Commit()
	return Result{Value: v}
}

// applyGuarded applies c, turning a panic of its applier (a bug, e.g. a
// member the proposer always sets and this entry lacks) into an error:
// the command changes nothing, on every replica alike, and the log stays
// replayable. A panic that escaped would stop the server at this entry at
// every start.
func (m *Machine) applyGuarded(ap applier, tx *state.Txn, c wire.Command, index uint64) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			m.log.Error("command applier panicked; the command changes nothing", "index", index, "type", c.Type().String(),
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			v, err = nil, fmt.Errorf("fsm: applying %s at index %d failed: %v", c.Type(), index, r)
		}
	}()
	return ap.apply(m, tx, c)
}
