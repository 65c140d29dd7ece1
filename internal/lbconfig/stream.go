package lbconfig

import "time"

// Data-plane endpoints on the server (SigV4-signed, signing name "ecs", as
// the agent endpoints are).
const (
	// PathStream: POST a StreamRequest; the answer is a stream of Message
	// lines (NDJSON): the full Config when it opens and whenever it
	// changes, heartbeats in between.
	PathStream = "/lb/v1/stream"
	// PathHealth: POST a HealthReport; 204 when taken.
	PathHealth = "/lb/v1/health"
)

// HeartbeatInterval is how often the stream carries a heartbeat when the
// configuration does not change; a node that hears nothing for three
// intervals reconnects.
const HeartbeatInterval = 10 * time.Second

// StreamRequest opens a node's configuration stream.
type StreamRequest struct {
	Node string `json:"node"`
}

// Message types on the stream.
const (
	MessageConfig    = "config"
	MessageHeartbeat = "heartbeat"
)

// Message is one line of the stream.
type Message struct {
	Type   string  `json:"type"`
	Config *Config `json:"config,omitempty"`
}
