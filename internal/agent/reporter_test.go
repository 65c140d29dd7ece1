package agent

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"berth.dev/berth/internal/agentproto"
)

// scriptedSink is a reportSink that fails while down and can hold every
// call until released.
type scriptedSink struct {
	mu        sync.Mutex
	down      bool
	hold      chan struct{} // non-nil: calls wait until it is closed
	attempts  int
	delivered []string // "TASK STATUS" of the task changes taken
	health    []agentproto.HealthReport
}

func (s *scriptedSink) enter(ctx context.Context) error {
	s.mu.Lock()
	s.attempts++
	hold, down := s.hold, s.down
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if down {
		return errServerDown
	}
	return nil
}

func (s *scriptedSink) SubmitTaskStateChange(ctx context.Context, in *ecs.SubmitTaskStateChangeInput, _ ...func(*ecs.Options)) (*ecs.SubmitTaskStateChangeOutput, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delivered = append(s.delivered, aws.ToString(in.Task)+" "+aws.ToString(in.Status))
	return &ecs.SubmitTaskStateChangeOutput{}, nil
}

func (s *scriptedSink) SubmitContainerStateChange(ctx context.Context, in *ecs.SubmitContainerStateChangeInput, _ ...func(*ecs.Options)) (*ecs.SubmitContainerStateChangeOutput, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delivered = append(s.delivered, aws.ToString(in.Task)+" container "+aws.ToString(in.ContainerName)+" "+aws.ToString(in.Status))
	return &ecs.SubmitContainerStateChangeOutput{}, nil
}

func (s *scriptedSink) ReportHealth(ctx context.Context, rep agentproto.HealthReport) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.health = append(s.health, rep)
	return nil
}

func (s *scriptedSink) set(fn func(*scriptedSink)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s)
}

func (s *scriptedSink) got() ([]string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.delivered), s.attempts
}

// startReporter runs a reporter on sink until the test ends; stopped
// collects the tasks whose STOPPED report was acknowledged.
func startReporter(t *testing.T, sink reportSink) (*reporter, *tally, func() []string) {
	var mu sync.Mutex
	var stopped []string
	work := newTally()
	r := newReporter(sink, "default", slog.New(slog.DiscardHandler), work, func(arn string) {
		mu.Lock()
		stopped = append(stopped, arn)
		mu.Unlock()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return r, work, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(stopped)
	}
}

func testReport(arn, status string) *report {
	return &report{TaskArn: arn, Status: status, Containers: []containerReport{{Name: "app", Status: status}}}
}

// While the server is down the reporter retries with a backoff, and the
// task's changes meanwhile coalesce: once the server is back it gets the
// latest state once.
func TestReporter_RetriesAndCoalesces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &scriptedSink{down: true}
		r, work, stopped := startReporter(t, sink)
		r.put(testReport("t1", "PENDING"))
		time.Sleep(10 * time.Second)
		synctest.Wait()
		delivered, attempts := sink.got()
		// At 0, 0.2, 0.6, 1.4, 3 and 6.2 s (the next at 11.2 s).
		if len(delivered) != 0 || attempts != 6 {
			t.Fatalf("while down: delivered %v in %d attempts, want none in 6", delivered, attempts)
		}
		select {
		case <-work.idle():
			t.Fatal("the reporter is idle with a report not delivered")
		default:
		}
		r.put(testReport("t1", "RUNNING"))
		r.put(testReport("t1", "STOPPED"))
		synctest.Wait() // the rounds these puts kicked have failed
		sink.set(func(s *scriptedSink) { s.down = false })
		<-work.idle()
		if delivered, _ := sink.got(); !slices.Equal(delivered, []string{"t1 STOPPED"}) {
			t.Fatalf("delivered %v, want only the latest state", delivered)
		}
		if got := stopped(); !slices.Equal(got, []string{"t1"}) {
			t.Errorf("acknowledged STOPPED: %v", got)
		}
		// A STOPPED task acknowledged is forgotten: a reconnect does not
		// send it again.
		r.resync()
		time.Sleep(time.Minute)
		if delivered, _ := sink.got(); len(delivered) != 1 {
			t.Errorf("after a resync: delivered %v", delivered)
		}
		if n := len(r.want) + len(r.sent) + len(r.busy); n != 0 {
			t.Errorf("the reporter still holds %d entries", n)
		}
	})
}

// Changes that arrive while a report is on its way are sent next, the
// latest only; a report equal to what the server has is not sent again.
func TestReporter_ChangeDuringSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hold := make(chan struct{})
		sink := &scriptedSink{hold: hold}
		r, work, _ := startReporter(t, sink)
		r.put(testReport("t1", "PENDING"))
		synctest.Wait() // the send waits in the sink
		r.put(testReport("t1", "RUNNING"))
		running := testReport("t1", "RUNNING")
		running.Containers[0].RuntimeID = "c1"
		r.put(running)
		sink.set(func(s *scriptedSink) { s.hold = nil })
		close(hold)
		<-work.idle()
		want := []string{"t1 PENDING", "t1 RUNNING"}
		if delivered, _ := sink.got(); !slices.Equal(delivered, want) {
			t.Fatalf("delivered %v, want %v", delivered, want)
		}
		// The same state again: nothing to send.
		r.put(running)
		<-work.idle()
		if delivered, _ := sink.got(); len(delivered) != 2 {
			t.Errorf("an unchanged report was sent again: %v", delivered)
		}
		// One container changed: SubmitContainerStateChange.
		exited := testReport("t1", "RUNNING")
		exited.Containers = append(exited.Containers, containerReport{Name: "side", Status: "STOPPED", ExitCode: aws.Int32(5)})
		r.put(exited)
		<-work.idle()
		exited2 := *exited
		exited2.Containers = slices.Clone(exited.Containers)
		exited2.Containers[0].RuntimeID = "c1"
		r.put(&exited2)
		<-work.idle()
		if delivered, _ := sink.got(); !slices.Equal(delivered[2:], []string{"t1 RUNNING", "t1 container app RUNNING"}) {
			t.Errorf("delivered %v", delivered)
		}
	})
}
