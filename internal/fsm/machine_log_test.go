package fsm_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
)

// levels records the level of every log record.
type levels struct {
	mu  sync.Mutex
	got []slog.Level
}

func (l *levels) Enabled(context.Context, slog.Level) bool { return true }
func (l *levels) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, r.Level)
	return nil
}
func (l *levels) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *levels) WithGroup(string) slog.Handler      { return l }

// A round or placement computed on an older generation of its service is
// an optimistic conflict the controller resolves by computing again: it
// is logged at debug level, never as an error.
func TestStaleRoundIsNotAnError(t *testing.T) {
	log := &levels{}
	m := fsm.New(namer, slog.New(log))
	index := uint64(0)
	apply := func(c wire.Command) fsm.Result {
		b, err := wire.Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		index++
		return m.Apply(index, b)
	}
	for _, c := range story() {
		if _, ok := c.(wire.CreateService); ok {
			apply(c)
			break
		}
		apply(c)
	}
	log.got = nil
	now := wire.Meta{Now: epoch.Add(time.Minute)}
	for _, c := range []wire.Command{
		wire.ServiceRound{Meta: now, Cluster: "prod", Name: "web", Generation: 7, Deployments: []wire.Deployment{}},
		wire.ServicePlacement{Meta: now, Cluster: "prod", Name: "web", Generation: 7, Deployment: "ecs-svc/1111"},
	} {
		if r := apply(c); !errors.Is(r.Err, fsm.ErrStaleRound) {
			t.Fatalf("%s at an old generation: got %v, want ErrStaleRound", c.Type(), r.Err)
		}
	}
	if len(log.got) != 2 {
		t.Fatalf("logged %d records, want one per stale command", len(log.got))
	}
	for _, l := range log.got {
		if l != slog.LevelDebug {
			t.Errorf("a stale round is logged at %s, want DEBUG", l)
		}
	}
}
