package elbapi

import (
	"context"
	"reflect"
	"time"

	"berth.dev/berth/internal/elb"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/lbconfig"
	"berth.dev/berth/internal/state"
)

// ConfigSource renders the data plane's configuration on demand; it
// satisfies lbapi.Source.
type ConfigSource struct {
	State        Reader
	Certificates CertificateSource // nil: none known
	Now          func() time.Time  // default time.Now
}

// Config returns the configuration of the current state and a channel
// closed when it may have changed: an ELB record or a container instance
// changed, a certificate was imported or re-imported (a listener's
// certificate is renewed in place), the state was replaced by a restore,
// or a draining target's delay ended.
func (s *ConfigSource) Config() (*lbconfig.Config, <-chan struct{}) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	snap := s.State.Snapshot()
	at := now()
	cfg := RenderConfig(snap, at, s.Certificates)
	chans := snap.WatchELB()
	chans = append(chans, snap.WatchAllInstances(func(*state.ContainerInstance) bool { return true }), snap.WatchCertificates(), snap.Abandoned())
	cases := make([]reflect.SelectCase, 0, len(chans)+1)
	for _, ch := range chans {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
	}
	var timer *time.Timer
	if next := nextDrainEnd(cfg, at); !next.IsZero() {
		timer = time.NewTimer(next.Sub(at))
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(timer.C)})
	}
	changed := make(chan struct{})
	go func() {
		reflect.Select(cases)
		if timer != nil {
			timer.Stop()
		}
		close(changed)
	}()
	return cfg, changed
}

// nextDrainEnd is the earliest DrainUntil after at of the configuration's
// draining targets (zero when none).
func nextDrainEnd(cfg *lbconfig.Config, at time.Time) time.Time {
	var next time.Time
	for _, tg := range cfg.TargetGroups {
		for _, t := range tg.Targets {
			if t.State == lbconfig.TargetDraining && t.DrainUntil.After(at) && (next.IsZero() || t.DrainUntil.Before(next)) {
				next = t.DrainUntil
			}
		}
	}
	return next
}

// Activate marks the provisioning load balancers among lbARNs active (a
// data-plane node serves them): one LoadBalancerActive command each. It
// fits lbapi.Config.Activate; errors are the caller's to log (the node
// reports again).
func (a *API) Activate(ctx context.Context, lbARNs []string) error {
	snap := a.cfg.State.Snapshot()
	for _, arnValue := range lbARNs {
		lb := snap.LoadBalancer(arnValue)
		if lb == nil || lb.State != elb.StateProvisioning {
			continue
		}
		if _, err := a.propose(ctx, wire.LoadBalancerActive{Meta: wire.Meta{Now: time.Now().UTC()}, ARN: arnValue}); err != nil {
			return err
		}
	}
	return nil
}

// CertificateUsers tells ACM which listeners use a certificate (it
// satisfies acmapi.InUse): the listeners whose certificates name it, in
// ARN order.
type CertificateUsers struct{ State Reader }

// InUse returns the ARNs of the listeners that use certARN.
func (u CertificateUsers) InUse(certARN string) []string {
	var out []string
	u.State.Snapshot().AllListeners(func(l *state.Listener) bool {
		for _, c := range l.Certificates {
			if c == certARN {
				out = append(out, l.ARN)
				break
			}
		}
		return true
	})
	return out
}
