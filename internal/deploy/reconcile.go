package deploy

import (
	"reflect"
	"slices"
	"time"
)

// Reconcile decides one round for one service: which tasks to mark lost,
// stop and start, how the deployments change and which events to record.
// It is a pure function of its input; it does not modify it.
func Reconcile(in Input) Result {
	r := newRound(&in)
	r.markLost()
	r.account()
	r.classify()
	r.countHealthFailures()
	r.circuitBreaker()
	if r.daemon {
		r.daemonStops()
		r.daemonStarts()
	} else {
		r.replicaStops()
		r.replicaStarts()
	}
	r.deadlock()
	r.complete()
	r.placementEvent()
	r.throttleEvent()
	r.steady()
	return r.finish()
}

// round is the working state of one Reconcile call.
type round struct {
	in     *Input
	cfg    Config
	now    time.Time
	name   string
	daemon bool

	deps    []Deployment // working copies; deps[primary] is the PRIMARY
	primary int
	byID    map[string]int // deployment ID -> index in deps

	inst map[string]*Instance
	// gone holds the instances whose tasks have lost their host, with
	// the reason.
	gone map[string]string
	// lost and stopped hold the tasks marked lost or stopped this round.
	lost    map[string]bool
	stopped map[string]bool

	desired, minH, maxT int

	// Per-task facts computed by classify.
	healthy   map[string]bool     // counts toward minimumHealthyPercent
	unhealthy map[string]bool     // failed health checks, past the grace period
	elbFailed map[string][]Target // of the unhealthy: the targets failing ELB health checks
	settling  map[string]bool     // live but neither healthy nor unhealthy yet

	res Result
	// Events, recorded in this order: health-check failures, the stopped
	// tasks, deployment changes, then conditions.
	healthEvents []string
	deployEvents []string
	conditions   []string
	wake         time.Time

	// Decisions that later steps read.
	throttleCrossed bool // the PRIMARY's launch failures reached ThrottleAfter this round
	replaced        int  // tasks stopped this round for failing health checks
	gated           bool // starts held back by throttle, placement retry or stops in flight
	need, room      int  // tasks the PRIMARY lacks; room under max
	mustGoLeft      int  // tasks that must go but were kept (budget)
	budgetBlocked   bool // a healthy task that must go was kept for minimumHealthyPercent
}

func newRound(in *Input) *round {
	r := &round{
		in:        in,
		cfg:       in.Config.withDefaults(),
		now:       in.Now,
		name:      in.Service.Name,
		daemon:    in.Service.SchedulingStrategy == Daemon,
		byID:      map[string]int{},
		inst:      map[string]*Instance{},
		gone:      map[string]string{},
		lost:      map[string]bool{},
		stopped:   map[string]bool{},
		healthy:   map[string]bool{},
		unhealthy: map[string]bool{},
		elbFailed: map[string][]Target{},
		settling:  map[string]bool{},
	}
	for i := range in.Instances {
		r.inst[in.Instances[i].ID] = &in.Instances[i]
	}
	for _, d := range in.Deployments {
		r.deps = append(r.deps, cloneDeployment(d))
	}
	// Several PRIMARY entries: the newest one is the PRIMARY.
	r.reindex()
	for i := range r.deps {
		d := &r.deps[i]
		d.Status = StatusActive
		if i == 0 {
			d.Status = StatusPrimary
		}
		if d.RolloutState == "" {
			d.RolloutState = RolloutInProgress
			d.RolloutStateReason = inProgressReason(d.ID)
		}
	}
	r.res.LastCompleted = cloneDeploymentPtr(in.Service.LastCompleted)
	r.setBounds()
	return r
}

// setBounds computes the desired count and the deployment bounds.
func (r *round) setBounds() {
	s := r.in.Service
	r.desired = s.DesiredCount
	if r.daemon {
		r.desired = 0
		for i := range r.in.Instances {
			in := &r.in.Instances[i]
			if !r.daemonEligible(in) {
				continue
			}
			r.desired++
			if !in.Connected && !in.DisconnectedAt.IsZero() {
				r.at(in.DisconnectedAt.Add(r.cfg.LostHostTimeout)) // it leaves the count then
			}
		}
	}
	r.desired = max(r.desired, 0)
	r.minH = minHealthy(r.desired, s.MinimumHealthyPercent)
	r.maxT = maxTotal(r.desired, s.MaximumPercent)
	r.res.DesiredCount = r.desired
}

// hasPrimary reports whether the service has a deployment at all.
func (r *round) hasPrimary() bool { return len(r.deps) > 0 }

func (r *round) primaryDep() *Deployment {
	if !r.hasPrimary() {
		return nil
	}
	return &r.deps[r.primary]
}

// dep returns the deployment of a task, or nil for a task whose deployment
// is no longer in the array.
func (r *round) dep(t *Task) *Deployment {
	if i, ok := r.byID[t.DeploymentID]; ok {
		return &r.deps[i]
	}
	return nil
}

// at records a timed decision falling due at t.
func (r *round) at(t time.Time) {
	if !t.After(r.now) {
		return
	}
	if r.wake.IsZero() || t.Before(r.wake) {
		r.wake = t
	}
}

// stop records a stop of a live task.
func (r *round) stop(t *Task, reason string) {
	r.stopped[t.ID] = true
	r.res.Stops = append(r.res.Stops, Stop{TaskID: t.ID, StopCode: StopServiceSchedulerInitiated, Reason: reason})
}

func (r *round) finish() Result {
	ev := slices.Clone(r.healthEvents)
	if len(r.res.Stops) > 0 {
		ids := make([]string, len(r.res.Stops))
		for i, s := range r.res.Stops {
			ids[i] = s.TaskID
		}
		ev = append(ev, stoppedMessage(r.name, ids))
	}
	ev = append(ev, r.deployEvents...)
	r.res.Events = append(ev, r.conditions...)
	r.updateCounts()
	// UpdatedAt moves only when something else in the deployment moved.
	old := map[string]Deployment{}
	for _, d := range r.in.Deployments {
		old[d.ID] = d
	}
	for i := range r.deps {
		d := &r.deps[i]
		if o, ok := old[d.ID]; ok {
			cmpd := *d
			cmpd.UpdatedAt = o.UpdatedAt
			if reflect.DeepEqual(cmpd, o) {
				continue
			}
		}
		d.UpdatedAt = r.now
	}
	r.res.Deployments = r.deps
	r.res.Wake = r.wake
	r.res.Changed = len(r.res.Lost)+len(r.res.Stops)+len(r.res.Starts)+len(r.res.Events) > 0 ||
		(len(r.res.Deployments)+len(r.in.Deployments) > 0 && !reflect.DeepEqual(r.res.Deployments, r.in.Deployments)) ||
		!reflect.DeepEqual(r.res.LastCompleted, r.in.Service.LastCompleted) ||
		(r.daemon && r.res.DesiredCount != r.in.Service.DesiredCount)
	return r.res
}

// updateCounts sets the API counts of every deployment from the tasks as
// they are after this round.
func (r *round) updateCounts() {
	for i := range r.deps {
		d := &r.deps[i]
		running, pending, live := 0, 0, 0
		for j := range r.in.Tasks {
			t := &r.in.Tasks[j]
			if t.DeploymentID != d.ID || r.lost[t.ID] || t.LastStatus == TaskStopped {
				continue
			}
			switch {
			case t.LastStatus == TaskRunning:
				running++
			case preRunning(t.LastStatus):
				pending++
			}
			if r.live(t) && !r.stopped[t.ID] {
				live++
			}
		}
		d.RunningCount, d.PendingCount = running, pending
		if i == r.primary {
			d.DesiredCount = r.desired
		} else {
			d.DesiredCount = live
		}
	}
}

func cloneDeployment(d Deployment) Deployment {
	d.Counted = slices.Clone(d.Counted)
	if d.Placement != nil {
		p := *d.Placement
		d.Placement = &p
	}
	return d
}

func cloneDeploymentPtr(d *Deployment) *Deployment {
	if d == nil {
		return nil
	}
	c := cloneDeployment(*d)
	return &c
}
