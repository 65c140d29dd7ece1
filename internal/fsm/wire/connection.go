package wire

import (
	"time"
)

// InstanceConnection records that an agent's stream opened or closed.
// A close only counts for the session that opened: a late close of an old
// connection never hides a newer one.
type InstanceConnection struct {
	Meta
	InstanceID string `json:"instanceId"`
	Session    string `json:"session"`
	Connected  bool   `json:"connected"`
}

func (InstanceConnection) Type() Type     { return TypeInstanceConnection }
func (InstanceConnection) Version() uint8 { return 1 }

// ResetConnections marks agents disconnected whose stream session is not
// served by the proposing server: sessions live in a server's memory, so a
// server that starts or becomes leader holds only those it opened since
// (their IDs start with Except). Version 2; version 1 had no Except and
// reset every session.
type ResetConnections struct {
	Meta
	// Except is the session ID prefix of the proposing server's own
	// sessions, which stay connected ("": reset every session).
	Except string `json:"except,omitempty"`
}

func (ResetConnections) Type() Type     { return TypeResetConnections }
func (ResetConnections) Version() uint8 { return 2 }

// CollectGarbage removes STOPPED tasks stopped before TasksBefore, expired
// clientTokens, and DELETE_IN_PROGRESS revisions no longer in use (version
// 2: by a task that has not stopped or by an ACTIVE or DRAINING service;
// version 1, CollectGarbageV1, looked at tasks only).
type CollectGarbage struct {
	Meta
	TasksBefore time.Time `json:"tasksBefore"`

	tasksOnly bool // upgraded from version 1 (never encoded)
}

func (CollectGarbage) Type() Type     { return TypeCollectGarbage }
func (CollectGarbage) Version() uint8 { return 2 }

// ServicesUse reports whether services count as using a revision
// (version 2).
func (c CollectGarbage) ServicesUse() bool { return !c.tasksOnly }
