package fsm

import (
	"berth.dev/berth/internal/fsm/wire"
	"fmt"
	"slices"
	"time"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// MaxServiceEvents is how many events a service keeps.
const MaxServiceEvents = 100

// Deployment statuses and rollout states, as ECS spells them.
const (
	statusPrimary     = "PRIMARY"
	statusActive      = "ACTIVE"
	rolloutInProgress = "IN_PROGRESS"
	rolloutCompleted  = "COMPLETED"
	rolloutFailed     = "FAILED"
)

// ErrStaleRound is returned for a round computed on an older generation of
// its service; the controller computes again.
var ErrStaleRound = fmt.Errorf("fsm: the service changed since the round was computed")

// ErrServiceNotFound is ECS's answer for an unknown service.
func ErrServiceNotFound() *apierr.Error {
	return apierr.New(apierr.ServiceNotFound, "Service not found.")
}

// hasHealthChecks reports whether an essential container of def has a
// health check (then "healthy" means HEALTHY, not "running for a while").
func hasHealthChecks(def *shape.TaskDefinition) bool {
	for _, cd := range def.ContainerDefinitions {
		if (cd.Essential == nil || *cd.Essential) && cd.HealthCheck != nil {
			return true
		}
	}
	return false
}

func activeTaskDefinition(tx *state.Txn, family string, revision int32) (*state.TaskDefinition, error) {
	td := tx.TaskDefinition(family, revision)
	if td == nil {
		return nil, apierr.Clientf("TaskDefinition not found.")
	}
	if td.Def.Status != shape.TaskDefinitionStatusActive {
		return nil, apierr.Clientf("TaskDefinition is inactive")
	}
	return td, nil
}

func newDeployment(id string, td *state.TaskDefinition, desired int32, c wire.Meta) state.Deployment {
	return state.Deployment{
		ID: id, Status: statusPrimary, TaskDefinition: deref(td.Def.TaskDefinitionArn),
		HealthChecks: hasHealthChecks(td.Def), DesiredCount: int(desired),
		RolloutState: rolloutInProgress, RolloutStateReason: "ECS deployment " + id + " in progress.",
		CreatedAt: c.Now, UpdatedAt: c.Now,
	}
}

func applyCreateService(m *Machine, tx *state.Txn, c *wire.CreateService) (any, error) {
	if _, err := ActiveCluster(&tx.Snapshot, c.Cluster); err != nil {
		return nil, err
	}
	if old := tx.Service(c.Cluster, c.Name); old != nil && deref(old.Shape.Status) != "INACTIVE" {
		if old.ClientToken == c.Fingerprint {
			return old, nil
		}
		return nil, apierr.InvalidParameterf("Creation of service was not idempotent.")
	}
	td, err := activeTaskDefinition(tx, c.Family, c.Revision)
	if err != nil {
		return nil, err
	}
	sh := *c.Shape
	sh.ServiceArn = ptr(m.namer.Service(c.Cluster, c.Name))
	sh.ServiceName = ptr(c.Name)
	sh.ClusterArn = ptr(m.namer.Cluster(c.Cluster))
	sh.Status = ptr("ACTIVE")
	sh.TaskDefinition = td.Def.TaskDefinitionArn
	sh.CreatedAt = shape.NewTimestamp(c.Now)
	if c.Principal != "" {
		sh.CreatedBy = ptr(c.Principal)
	}
	svc := &state.Service{Cluster: c.Cluster, Name: c.Name, Shape: &sh, Generation: 1, ClientToken: c.Fingerprint,
		Deployments: []state.Deployment{newDeployment(c.DeploymentID, td, sh.DesiredCount, c.Meta)}}
	if err := tx.Put(state.TableServices, svc); err != nil {
		return nil, err
	}
	if err := m.recordDeployment(tx, svc, td, svc.Deployments[0], nil, c.RecordsRevision(), c.Now); err != nil {
		return nil, err
	}
	return svc, nil
}

// liveService returns an ACTIVE service, or ECS's error.
func liveService(tx *state.Txn, cluster, name string) (*state.Service, error) {
	if _, err := ActiveCluster(&tx.Snapshot, cluster); err != nil {
		return nil, err
	}
	svc := tx.Service(cluster, name)
	if svc == nil {
		return nil, ErrServiceNotFound()
	}
	if deref(svc.Shape.Status) != "ACTIVE" {
		return nil, apierr.New(apierr.ServiceNotActive, "Service was not ACTIVE.")
	}
	return svc, nil
}

// copyService returns a copy of svc whose shape and deployments may change.
func copyService(svc *state.Service) *state.Service {
	cp := *svc
	sh := *svc.Shape
	cp.Shape = &sh
	cp.Deployments = append([]state.Deployment(nil), svc.Deployments...)
	cp.Events = append([]state.Event(nil), svc.Events...)
	return &cp
}

func applyUpdateService(m *Machine, tx *state.Txn, c *wire.UpdateService) (any, error) {
	old, err := liveService(tx, c.Cluster, c.Name)
	if err != nil {
		return nil, err
	}
	svc := copyService(old)
	sh := svc.Shape
	if c.DesiredCount != nil {
		if sh.SchedulingStrategy == shape.SchedulingStrategyDaemon {
			return nil, apierr.InvalidParameterf("The desired count of a DAEMON service cannot be set.")
		}
		sh.DesiredCount = *c.DesiredCount
		if len(svc.Deployments) > 0 {
			svc.Deployments[0].DesiredCount = int(*c.DesiredCount)
		}
	}
	if c.DeploymentConfig != nil {
		sh.DeploymentConfiguration = c.DeploymentConfig
	}
	if c.HealthCheckGracePeriod != nil {
		sh.HealthCheckGracePeriodSeconds = c.HealthCheckGracePeriod
	}
	if c.PlacementConstraints != nil {
		sh.PlacementConstraints = c.PlacementConstraints
	}
	if c.PlacementStrategy != nil {
		sh.PlacementStrategy = c.PlacementStrategy
	}
	if c.EnableECSManagedTags != nil {
		sh.EnableECSManagedTags = *c.EnableECSManagedTags
	}
	if c.PropagateTags != "" {
		sh.PropagateTags = c.PropagateTags
	}
	if c.EnableExecuteCommand != nil {
		sh.EnableExecuteCommand = *c.EnableExecuteCommand
	}
	newNet := false
	switch {
	case c.Network != nil:
		sh.NetworkConfiguration, newNet = ServiceNetwork(c.Network), true
	case c.RemoveNetwork && sh.NetworkConfiguration != nil:
		sh.NetworkConfiguration, newNet = nil, true
	}
	if c.LoadBalancers != nil && !slices.EqualFunc(sh.LoadBalancers, *c.LoadBalancers, sameLoadBalancer) {
		sh.LoadBalancers, newNet = append([]shape.LoadBalancer{}, *c.LoadBalancers...), true
	}
	if c.ServiceRegistries != nil && !slices.EqualFunc(sh.ServiceRegistries, *c.ServiceRegistries, sameRegistry) {
		sh.ServiceRegistries, newNet = append([]shape.ServiceRegistry{}, *c.ServiceRegistries...), true
	}
	newDef := c.Family != "" && deref(sh.TaskDefinition) != m.namer.TaskDefinition(c.Family, c.Revision)
	if newDef || newNet || c.ForceNewDeployment {
		family, rev := c.Family, c.Revision
		if family == "" {
			family, rev = FamilyRevision(deref(sh.TaskDefinition))
		}
		td, err := activeTaskDefinition(tx, family, rev)
		if err != nil {
			return nil, err
		}
		for i := range svc.Deployments {
			if svc.Deployments[i].Status == statusPrimary {
				svc.Deployments[i].Status = statusActive
				svc.Deployments[i].UpdatedAt = c.Now
			}
		}
		replaced := svc.Deployments
		svc.Deployments = append([]state.Deployment{newDeployment(c.DeploymentID, td, sh.DesiredCount, c.Meta)}, svc.Deployments...)
		sh.TaskDefinition = td.Def.TaskDefinitionArn
		if err := m.recordDeployment(tx, svc, td, svc.Deployments[0], replaced, c.RecordsRevision(), c.Now); err != nil {
			return nil, err
		}
	}
	svc.Generation++
	return svc, tx.Put(state.TableServices, svc)
}

// FamilyRevision splits a task definition ARN.
func FamilyRevision(arn string) (string, int32) {
	i := len(arn) - 1
	for i >= 0 && arn[i] != '/' {
		i--
	}
	rest := arn[i+1:]
	for j := len(rest) - 1; j >= 0; j-- {
		if rest[j] == ':' {
			var n int32
			fmt.Sscan(rest[j+1:], &n)
			return rest[:j], n
		}
	}
	return rest, 0
}

func applyDeleteService(m *Machine, tx *state.Txn, c *wire.DeleteService) (any, error) {
	if _, err := ActiveCluster(&tx.Snapshot, c.Cluster); err != nil {
		return nil, err
	}
	old := tx.Service(c.Cluster, c.Name)
	if old == nil || deref(old.Shape.Status) == "INACTIVE" {
		return nil, ErrServiceNotFound()
	}
	if deref(old.Shape.Status) == "DRAINING" {
		return old, nil
	}
	replica := old.Shape.SchedulingStrategy != shape.SchedulingStrategyDaemon
	if replica && old.Shape.DesiredCount > 0 && !c.Force {
		return nil, apierr.InvalidParameterf("The service cannot be stopped while it is scaled above 0.")
	}
	svc := copyService(old)
	svc.Shape.Status = ptr("DRAINING")
	svc.Shape.DesiredCount = 0
	for i := range svc.Deployments {
		svc.Deployments[i].DesiredCount = 0
	}
	svc.Generation++
	if !serviceHasLiveTasks(&tx.Snapshot, svc) {
		svc.Shape.Status = ptr("INACTIVE")
		svc.InactiveAt = c.Now
	}
	return svc, tx.Put(state.TableServices, svc)
}

// ServiceGroup is the task group of a service's tasks.
func ServiceGroup(name string) string { return "service:" + name }

// serviceHasLiveTasks reports whether a task of the service has not stopped.
func serviceHasLiveTasks(s *state.Snapshot, svc *state.Service) bool {
	live := false
	group := ServiceGroup(svc.Name)
	s.Tasks(svc.Cluster, "", func(t *state.Task) bool {
		live = deref(t.Shape.Group) == group && deref(t.Shape.LastStatus) != "STOPPED"
		return !live
	})
	return live
}

func applyServiceRound(m *Machine, tx *state.Txn, c *wire.ServiceRound) (any, error) {
	old := tx.Service(c.Cluster, c.Name)
	if old == nil || old.Generation != c.Generation {
		return nil, ErrStaleRound
	}
	svc := copyService(old)
	deployments := deploymentsFromWire(c.Deployments)
	for _, st := range c.Lost {
		if t := tx.Task(st.TaskID); t != nil && t.Cluster == c.Cluster && deref(t.Shape.LastStatus) != "STOPPED" {
			cp := copyTask(t)
			markStopped(cp, c.Now, st.StopCode, st.Reason)
			events, err := m.releaseTask(tx, cp, svc.Name, c.Now, false)
			if err != nil {
				return nil, err
			}
			appendEvents(svc, c.Now, events)
			if err := tx.Put(state.TableTasks, cp); err != nil {
				return nil, err
			}
		}
	}
	for _, st := range c.Stops {
		if t := tx.Task(st.TaskID); t != nil && t.Cluster == c.Cluster && deref(t.Shape.DesiredStatus) != "STOPPED" {
			cp := copyTask(t)
			requestStop(cp, c.Now, st.StopCode, st.Reason)
			events, err := m.releaseTask(tx, cp, svc.Name, c.Now, deref(cp.Shape.LastStatus) != "STOPPED")
			if err != nil {
				return nil, err
			}
			appendEvents(svc, c.Now, events)
			if err := tx.Put(state.TableTasks, cp); err != nil {
				return nil, err
			}
		}
	}
	// Deployment history follows the deployments array.
	now := map[string]*state.Deployment{}
	var primary *state.Deployment
	for i, d := range deployments {
		now[d.ID] = &deployments[i]
		if d.Status == statusPrimary {
			primary = &deployments[i]
		}
	}
	r := &round{byID: now, primary: primary, config: svc.Shape.DeploymentConfiguration, desired: c.DesiredCount}
	if err := m.followRound(tx, c.Cluster, c.Name, deployments, r, c.Now); err != nil {
		return nil, err
	}
	for _, d := range old.Deployments {
		sd := tx.ServiceDeployment(c.Cluster, c.Name, d.ID)
		if sd == nil {
			continue
		}
		status := historyStatus(d, now[d.ID], primary, sd.Shape.Status)
		if revised(sd) {
			status = revisedStatus(d, now[d.ID], primary, sd.Shape.Status)
		}
		if status != "" {
			if err := m.finishDeployment(tx, c.Cluster, c.Name, d.ID, status, c.Now, &ending{self: now[d.ID], round: r}); err != nil {
				return nil, err
			}
		}
	}
	svc.Deployments = deployments
	svc.LastCompleted = optionalDeploymentFromWire(c.LastCompleted)
	for _, d := range deployments {
		if d.Status == statusPrimary {
			// The service runs its PRIMARY deployment's definition (after a
			// rollback, the one rolled back to).
			svc.Shape.TaskDefinition = ptr(d.TaskDefinition)
		}
	}
	if svc.Shape.SchedulingStrategy == shape.SchedulingStrategyDaemon || deref(svc.Shape.Status) == "ACTIVE" {
		svc.Shape.DesiredCount = int32(c.DesiredCount)
	}
	for _, e := range c.Events {
		svc.Events = append(svc.Events, state.Event{At: c.Now, Message: e})
	}
	if n := len(svc.Events); n > MaxServiceEvents {
		svc.Events = svc.Events[n-MaxServiceEvents:]
	}
	if deref(svc.Shape.Status) == "DRAINING" && !serviceHasLiveTasks(&tx.Snapshot, svc) {
		svc.Shape.Status = ptr("INACTIVE")
		svc.InactiveAt = c.Now
	}
	return svc, tx.Put(state.TableServices, svc)
}

// markStopped ends a task the control plane gave up on (its host is lost):
// STOPPED at once, without waiting for an agent.
func markStopped(t *state.Task, now time.Time, code, reason string) {
	sh := t.Shape
	sh.DesiredStatus = ptr("STOPPED")
	if sh.StoppingAt == nil {
		sh.StoppingAt = shape.NewTimestamp(now)
	}
	sh.LastStatus = ptr("STOPPED")
	sh.StoppedAt = shape.NewTimestamp(now)
	if sh.StopCode == "" {
		sh.StopCode = shape.TaskStopCode(code)
		sh.StoppedReason = optional(reason)
	}
	for i := range sh.Containers {
		sh.Containers[i].LastStatus = ptr("STOPPED")
	}
	sh.Version++
}

func applyServicePlacement(m *Machine, tx *state.Txn, c *wire.ServicePlacement) (any, error) {
	old := tx.Service(c.Cluster, c.Name)
	if old == nil || old.Generation != c.Generation {
		return nil, ErrStaleRound
	}
	svc := copyService(old)
	var failure *state.PlacementFailure
	if c.Failure != nil {
		f := state.PlacementFailure(*c.Failure)
		failure = &f
	}
	for i := range svc.Deployments {
		if svc.Deployments[i].ID == c.Deployment {
			svc.Deployments[i].Placement = failure
		}
	}
	if c.Event != "" {
		svc.Events = append(svc.Events, state.Event{At: c.Now, Message: c.Event})
		if n := len(svc.Events); n > MaxServiceEvents {
			svc.Events = svc.Events[n-MaxServiceEvents:]
		}
	}
	return svc, tx.Put(state.TableServices, svc)
}

func sameLoadBalancer(a, b shape.LoadBalancer) bool {
	return deref(a.TargetGroupArn) == deref(b.TargetGroupArn) && deref(a.LoadBalancerName) == deref(b.LoadBalancerName) &&
		deref(a.ContainerName) == deref(b.ContainerName) && int32Of(a.ContainerPort) == int32Of(b.ContainerPort)
}

func int32Of(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
