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

// ResetConnections marks every agent disconnected: sessions live in the
// leader's memory, so a new leader starts with none.
type ResetConnections struct {
	Meta
}

func (ResetConnections) Type() Type     { return TypeResetConnections }
func (ResetConnections) Version() uint8 { return 1 }

// CollectGarbage removes STOPPED tasks stopped before TasksBefore and
// expired clientTokens.
type CollectGarbage struct {
	Meta
	TasksBefore time.Time `json:"tasksBefore"`
}

func (CollectGarbage) Type() Type     { return TypeCollectGarbage }
func (CollectGarbage) Version() uint8 { return 1 }
