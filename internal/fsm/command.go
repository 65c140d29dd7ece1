package fsm

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Type identifies a command in the log. Values are stable forever: append,
// never renumber.
type Type uint8

// Command types.
const (
	TypeCreateCluster                 Type = 1
	TypeUpdateCluster                 Type = 2
	TypePutClusterCapacityProviders   Type = 3
	TypeDeleteCluster                 Type = 4
	TypeRegisterTaskDefinition        Type = 5
	TypeDeregisterTaskDefinition      Type = 6
	TypeDeleteTaskDefinitions         Type = 7
	TypeRegisterContainerInstance     Type = 8
	TypeDeregisterContainerInstance   Type = 9
	TypeUpdateContainerInstancesState Type = 10
	TypePutAttributes                 Type = 11
	TypeDeleteAttributes              Type = 12
	TypeTagResource                   Type = 13
	TypeUntagResource                 Type = 14
	TypePutAccountSetting             Type = 15
	TypeDeleteAccountSetting          Type = 16
	TypeRunTask                       Type = 17
	TypeStopTask                      Type = 18
	TypeTaskStateChange               Type = 19
	TypeContainerStateChange          Type = 20
	TypeTaskHealth                    Type = 21
	TypeInstanceConnection            Type = 22
	TypeResetConnections              Type = 23
	TypeCollectGarbage                Type = 24
	TypeCreateService                 Type = 25
	TypeUpdateService                 Type = 26
	TypeDeleteService                 Type = 27
	TypeServiceRound                  Type = 28
	TypeServicePlacement              Type = 29
)

// IgnorableFlag marks a command type that older servers may skip.
const IgnorableFlag Type = 0x80

// Meta is stamped on every command by the proposing server.
type Meta struct {
	// Now is the command's time; appliers use it instead of a clock.
	Now time.Time `json:"now"`
	// Principal is the ARN of the caller.
	Principal string `json:"principal,omitempty"`
}

// Command is a state change.
type Command interface {
	Type() Type
	Version() uint8
	meta() Meta
}

func (m Meta) meta() Meta { return m }

// Encode returns the log entry for c.
func Encode(c Command) ([]byte, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode command %d: %w", c.Type(), err)
	}
	out := make([]byte, 0, len(payload)+2)
	out = append(out, byte(c.Type()), c.Version())
	return append(out, payload...), nil
}

// ErrShortEntry is returned for a log entry too short to hold a header.
var ErrShortEntry = errors.New("fsm: log entry shorter than its header")

// header splits a log entry.
func header(b []byte) (Type, uint8, []byte, error) {
	if len(b) < 2 {
		return 0, 0, nil, ErrShortEntry
	}
	return Type(b[0]), b[1], b[2:], nil
}
