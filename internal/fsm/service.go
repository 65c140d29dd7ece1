package fsm

import (
	"fmt"
	"strings"
	"time"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// MaxServiceEvents is how many events a service keeps.
const MaxServiceEvents = 100

// CreateService creates a service with its first (PRIMARY) deployment, or
// returns the ACTIVE or DRAINING service of that name when the request is
// the same (Fingerprint).
type CreateService struct {
	Meta
	Cluster      string         `json:"cluster"`
	Name         string         `json:"name"`
	Shape        *shape.Service `json:"shape"` // the configuration, validated
	Family       string         `json:"family"`
	Revision     int32          `json:"revision"`
	DeploymentID string         `json:"deploymentId"`
	Fingerprint  string         `json:"fingerprint"`
}

func (CreateService) Type() Type     { return TypeCreateService }
func (CreateService) Version() uint8 { return 1 }

// UpdateService changes a service. A new task definition or
// ForceNewDeployment starts a new PRIMARY deployment; other changes apply
// to the current ones.
type UpdateService struct {
	Meta
	Cluster                string                         `json:"cluster"`
	Name                   string                         `json:"name"`
	DesiredCount           *int32                         `json:"desiredCount,omitempty"`
	Family                 string                         `json:"family,omitempty"`
	Revision               int32                          `json:"revision,omitempty"`
	DeploymentConfig       *shape.DeploymentConfiguration `json:"deploymentConfiguration,omitempty"`
	HealthCheckGracePeriod *int32                         `json:"healthCheckGracePeriodSeconds,omitempty"`
	PlacementConstraints   []shape.PlacementConstraint    `json:"placementConstraints,omitempty"`
	PlacementStrategy      []shape.PlacementStrategy      `json:"placementStrategy,omitempty"`
	EnableECSManagedTags   *bool                          `json:"enableECSManagedTags,omitempty"`
	PropagateTags          shape.PropagateTags            `json:"propagateTags,omitempty"`
	EnableExecuteCommand   *bool                          `json:"enableExecuteCommand,omitempty"`
	ForceNewDeployment     bool                           `json:"forceNewDeployment,omitempty"`
	DeploymentID           string                         `json:"deploymentId"`
}

func (UpdateService) Type() Type     { return TypeUpdateService }
func (UpdateService) Version() uint8 { return 1 }

// DeleteService starts draining a service: desired count 0, status
// DRAINING; it becomes INACTIVE when its last task stops.
type DeleteService struct {
	Meta
	Cluster string `json:"cluster"`
	Name    string `json:"name"`
	Force   bool   `json:"force,omitempty"`
}

func (DeleteService) Type() Type     { return TypeDeleteService }
func (DeleteService) Version() uint8 { return 1 }

// ServiceRound applies one reconciler round computed at Generation.
type ServiceRound struct {
	Meta
	Cluster    string        `json:"cluster"`
	Name       string        `json:"name"`
	Generation int64         `json:"generation"`
	Result     deploy.Result `json:"result"`
}

func (ServiceRound) Type() Type     { return TypeServiceRound }
func (ServiceRound) Version() uint8 { return 1 }

// ServicePlacement records the outcome of placing a round's starts: the
// first placement failure of the PRIMARY deployment (nil to clear it) and
// the "has started N tasks" event.
type ServicePlacement struct {
	Meta
	Cluster    string                   `json:"cluster"`
	Name       string                   `json:"name"`
	Generation int64                    `json:"generation"`
	Deployment string                   `json:"deployment"`
	Failure    *deploy.PlacementFailure `json:"failure,omitempty"`
	Event      string                   `json:"event,omitempty"`
}

func (ServicePlacement) Type() Type     { return TypeServicePlacement }
func (ServicePlacement) Version() uint8 { return 1 }

// ErrStaleRound is returned for a round computed on an older generation of
// its service; the controller computes again.
var ErrStaleRound = fmt.Errorf("fsm: the service changed since the round was computed")

func init() {
	register(applyCreateService)
	register(applyUpdateService)
	register(applyDeleteService)
	register(applyServiceRound)
	register(applyServicePlacement)
}

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

func newDeployment(id string, td *state.TaskDefinition, desired int32, c Meta) deploy.Deployment {
	return deploy.Deployment{
		ID: id, Status: deploy.StatusPrimary, TaskDefinition: deref(td.Def.TaskDefinitionArn),
		HealthChecks: hasHealthChecks(td.Def), DesiredCount: int(desired),
		RolloutState: deploy.RolloutInProgress, RolloutStateReason: "ECS deployment " + id + " in progress.",
		CreatedAt: c.Now, UpdatedAt: c.Now,
	}
}

func (m *Machine) recordDeployment(tx *state.Txn, cluster, service, id, status string, c Meta) error {
	arn := m.namer.ServiceDeployment(cluster, service, strings.TrimPrefix(id, "ecs-svc/"))
	sd := &state.ServiceDeployment{Cluster: cluster, Service: service, ID: id, Shape: &shape.ServiceDeployment{
		ServiceDeploymentArn: ptr(arn), ServiceArn: ptr(m.namer.Service(cluster, service)),
		ClusterArn: ptr(m.namer.Cluster(cluster)), CreatedAt: shape.NewTimestamp(c.Now), StartedAt: shape.NewTimestamp(c.Now),
		UpdatedAt: shape.NewTimestamp(c.Now), Status: shape.ServiceDeploymentStatus(status),
	}}
	return tx.Put(state.TableServiceDeploys, sd)
}

func applyCreateService(m *Machine, tx *state.Txn, c *CreateService) (any, error) {
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
		Deployments: []deploy.Deployment{newDeployment(c.DeploymentID, td, sh.DesiredCount, c.Meta)}}
	if err := tx.Put(state.TableServices, svc); err != nil {
		return nil, err
	}
	if err := m.recordDeployment(tx, c.Cluster, c.Name, c.DeploymentID, string(shape.ServiceDeploymentStatusInProgress), c.Meta); err != nil {
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
	cp.Deployments = append([]deploy.Deployment(nil), svc.Deployments...)
	cp.Events = append([]deploy.Event(nil), svc.Events...)
	return &cp
}

func applyUpdateService(m *Machine, tx *state.Txn, c *UpdateService) (any, error) {
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
	newDef := c.Family != "" && deref(sh.TaskDefinition) != m.namer.TaskDefinition(c.Family, c.Revision)
	if newDef || c.ForceNewDeployment {
		family, rev := c.Family, c.Revision
		if family == "" {
			family, rev = FamilyRevision(deref(sh.TaskDefinition))
		}
		td, err := activeTaskDefinition(tx, family, rev)
		if err != nil {
			return nil, err
		}
		for i := range svc.Deployments {
			if svc.Deployments[i].Status == deploy.StatusPrimary {
				svc.Deployments[i].Status = deploy.StatusActive
				svc.Deployments[i].UpdatedAt = c.Now
			}
		}
		svc.Deployments = append([]deploy.Deployment{newDeployment(c.DeploymentID, td, sh.DesiredCount, c.Meta)}, svc.Deployments...)
		sh.TaskDefinition = td.Def.TaskDefinitionArn
		if err := m.recordDeployment(tx, c.Cluster, c.Name, c.DeploymentID, string(shape.ServiceDeploymentStatusInProgress), c.Meta); err != nil {
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

func applyDeleteService(m *Machine, tx *state.Txn, c *DeleteService) (any, error) {
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

func applyServiceRound(m *Machine, tx *state.Txn, c *ServiceRound) (any, error) {
	old := tx.Service(c.Cluster, c.Name)
	if old == nil || old.Generation != c.Generation {
		return nil, ErrStaleRound
	}
	svc := copyService(old)
	r := c.Result
	for _, st := range r.Lost {
		if t := tx.Task(st.TaskID); t != nil && t.Cluster == c.Cluster && deref(t.Shape.LastStatus) != "STOPPED" {
			cp := copyTask(t)
			markStopped(cp, c.Now, st.StopCode, st.Reason)
			if err := tx.Put(state.TableTasks, cp); err != nil {
				return nil, err
			}
		}
	}
	for _, st := range r.Stops {
		if t := tx.Task(st.TaskID); t != nil && t.Cluster == c.Cluster && deref(t.Shape.DesiredStatus) != "STOPPED" {
			cp := copyTask(t)
			requestStop(cp, c.Now, st.StopCode, st.Reason)
			if err := tx.Put(state.TableTasks, cp); err != nil {
				return nil, err
			}
		}
	}
	// Deployment history follows the deployments array.
	now := map[string]*deploy.Deployment{}
	var primary *deploy.Deployment
	for i, d := range r.Deployments {
		now[d.ID] = &r.Deployments[i]
		if d.Status == deploy.StatusPrimary {
			primary = &r.Deployments[i]
		}
	}
	for _, d := range old.Deployments {
		var recorded shape.ServiceDeploymentStatus
		if sd := tx.ServiceDeployment(c.Cluster, c.Name, d.ID); sd != nil {
			recorded = sd.Shape.Status
		}
		if status := historyStatus(d, now[d.ID], primary, recorded); status != "" {
			if err := m.finishDeployment(tx, c.Cluster, c.Name, d.ID, string(status), c.Now); err != nil {
				return nil, err
			}
		}
	}
	svc.Deployments = r.Deployments
	svc.LastCompleted = r.LastCompleted
	for _, d := range r.Deployments {
		if d.Status == deploy.StatusPrimary {
			// The service runs its PRIMARY deployment's definition (after a
			// rollback, the one rolled back to).
			svc.Shape.TaskDefinition = ptr(d.TaskDefinition)
		}
	}
	if svc.Shape.SchedulingStrategy == shape.SchedulingStrategyDaemon || deref(svc.Shape.Status) == "ACTIVE" {
		svc.Shape.DesiredCount = int32(r.DesiredCount)
	}
	for _, e := range r.Events {
		svc.Events = append(svc.Events, deploy.Event{At: c.Now, Message: e})
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

// historyStatus is the new status of deployment d's history record after
// a reconciler round, or "" when it does not change. now is d after the
// round (nil: it left the deployments array), primary the PRIMARY after
// the round, recorded the record's status before it.
//
//   - d completes: SUCCESSFUL.
//   - The circuit breaker fails d: ROLLBACK_IN_PROGRESS when another
//     deployment took over as PRIMARY (the rollback), else STOPPED (no
//     COMPLETED deployment to roll back to). ROLLBACK_FAILED when the
//     circuit breaker fails the rollback too.
//   - d leaves the array (the PRIMARY completed): an unfinished one is
//     STOPPED (replaced); a failed one being rolled back is
//     ROLLBACK_SUCCESSFUL when the rollback is what completed, STOPPED
//     when a later deployment replaced the rollback; otherwise its record
//     keeps its final status.
func historyStatus(d deploy.Deployment, now, primary *deploy.Deployment, recorded shape.ServiceDeploymentStatus) shape.ServiceDeploymentStatus {
	if now != nil {
		switch {
		case now.RolloutState == deploy.RolloutCompleted && d.RolloutState != deploy.RolloutCompleted:
			return shape.ServiceDeploymentStatusSuccessful
		case now.RolloutState == deploy.RolloutFailed && d.RolloutState != deploy.RolloutFailed:
			if now.Status != deploy.StatusPrimary {
				return shape.ServiceDeploymentStatusRollbackInProgress
			}
			return shape.ServiceDeploymentStatusStopped
		case recorded == shape.ServiceDeploymentStatusRollbackInProgress && primary != nil && primary.Rollback &&
			primary.RolloutState == deploy.RolloutFailed:
			return shape.ServiceDeploymentStatusRollbackFailed
		}
		return ""
	}
	switch {
	case recorded == shape.ServiceDeploymentStatusRollbackInProgress:
		if primary != nil && primary.Rollback && primary.RolloutState == deploy.RolloutCompleted {
			return shape.ServiceDeploymentStatusRollbackSuccessful
		}
		return shape.ServiceDeploymentStatusStopped
	case d.RolloutState == deploy.RolloutInProgress || d.RolloutState == "":
		return shape.ServiceDeploymentStatusStopped
	}
	return ""
}

// finishDeployment records how a deployment ended (or that it is being
// rolled back) in its history record.
func (m *Machine) finishDeployment(tx *state.Txn, cluster, service, id, status string, now time.Time) error {
	old := tx.ServiceDeployment(cluster, service, id)
	if old == nil {
		return nil
	}
	cp := *old
	sh := *old.Shape
	sh.Status = shape.ServiceDeploymentStatus(status)
	sh.UpdatedAt = shape.NewTimestamp(now)
	switch status {
	case string(shape.ServiceDeploymentStatusSuccessful):
		sh.FinishedAt = shape.NewTimestamp(now)
	case string(shape.ServiceDeploymentStatusRollbackInProgress): // not finished yet
	default:
		sh.StoppedAt = shape.NewTimestamp(now)
	}
	cp.Shape = &sh
	return tx.Put(state.TableServiceDeploys, &cp)
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

func applyServicePlacement(m *Machine, tx *state.Txn, c *ServicePlacement) (any, error) {
	old := tx.Service(c.Cluster, c.Name)
	if old == nil || old.Generation != c.Generation {
		return nil, ErrStaleRound
	}
	svc := copyService(old)
	for i := range svc.Deployments {
		if svc.Deployments[i].ID == c.Deployment {
			svc.Deployments[i].Placement = c.Failure
		}
	}
	if c.Event != "" {
		svc.Events = append(svc.Events, deploy.Event{At: c.Now, Message: c.Event})
		if n := len(svc.Events); n > MaxServiceEvents {
			svc.Events = svc.Events[n-MaxServiceEvents:]
		}
	}
	return svc, tx.Put(state.TableServices, svc)
}
