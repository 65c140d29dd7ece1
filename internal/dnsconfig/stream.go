package dnsconfig

import "time"

// HeartbeatInterval is how often the stream at StreamPath carries a
// heartbeat when no configuration was sent. A heartbeat is an empty line;
// every other line is one Config. A node that hears nothing for three
// intervals takes the stream for dead and reconnects.
//
// The stream is opened with a SigV4-signed POST to StreamPath (service
// "ecs", the root credentials); the body is empty or {"node": NAME}. The
// first line is the current Config; the next ones are sent when its
// content (Revision aside) changes.
const HeartbeatInterval = 10 * time.Second
