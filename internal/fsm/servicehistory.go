package fsm

import (
	"strings"
	"time"

	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// Deployment history. Every deployment has a history record
// (ListServiceDeployments, DescribeServiceDeployments). A deployment
// created by a version 2 CreateService or UpdateService also has a service revision
// (DescribeServiceRevisions: the configuration it runs) and a revised
// history record: its target and source revisions with their task
// counts, its deployment configuration and circuit breaker, which rounds
// keep current until it ends, and how it ended (statusReason, rollback).
// Records made before service revisions existed have no target revision
// and rounds change only their status, as they did then: a log written
// then replays to the state it gave then.

// ReplacedReason is the statusReason of a deployment a newer one stopped
// before it finished (ECS's sentence).
const ReplacedReason = "Replaced by a new service deployment."

// The circuit breaker's words and threshold, as package deploy has them
// (this package does not import it; a test compares them).

// BreakerReason is the statusReason of a deployment the circuit breaker
// failed (deploy's rolloutStateReason).
const BreakerReason = "ECS deployment circuit breaker: tasks failed to start."

// RollbackReason is the reason of the rollback to deployment id (deploy's
// rolloutStateReason of that deployment as the rollback starts).
func RollbackReason(id string) string {
	return "ECS deployment circuit breaker: rolling back to deploymentId " + id + "."
}

// BreakerThreshold is the circuit breaker's threshold for a desired count:
// clamp(ceil(desired / 2), 3, 200).
func BreakerThreshold(desired int) int { return min(max((desired+1)/2, 3), 200) }

// DeploymentNumber is the number of deployment ID ecs-svc/N: N, which
// also ends the ARNs of its history record and of its service revision.
func DeploymentNumber(id string) string { return strings.TrimPrefix(id, "ecs-svc/") }

func (m *Machine) revisionArn(cluster, service, id string) string {
	return m.namer.ServiceRevision(cluster, service, DeploymentNumber(id))
}

// revised reports whether a history record has its target revision (it
// was made by a version 2 command).
func revised(sd *state.ServiceDeployment) bool { return sd.Shape.TargetServiceRevision != nil }

// ended reports whether a history status is final; a deployment being
// rolled back has not ended.
func ended(s shape.ServiceDeploymentStatus) bool {
	return s != shape.ServiceDeploymentStatusInProgress && s != shape.ServiceDeploymentStatusRollbackInProgress &&
		s != shape.ServiceDeploymentStatusPending
}

// recordDeployment records the history of deployment d, new in svc (the
// service as d starts) with td. With revision, it also records d's
// service revision, names the deployments d replaces as its sources, and
// stops those that had not finished.
func (m *Machine) recordDeployment(tx *state.Txn, svc *state.Service, td *state.TaskDefinition, d state.Deployment, replaced []state.Deployment, revision bool, now time.Time) error {
	cluster, service := svc.Cluster, svc.Name
	sh := &shape.ServiceDeployment{
		ServiceDeploymentArn: ptr(m.namer.ServiceDeployment(cluster, service, DeploymentNumber(d.ID))),
		ServiceArn:           ptr(m.namer.Service(cluster, service)), ClusterArn: ptr(m.namer.Cluster(cluster)),
		CreatedAt: shape.NewTimestamp(now), StartedAt: shape.NewTimestamp(now), UpdatedAt: shape.NewTimestamp(now),
		Status: shape.ServiceDeploymentStatusInProgress,
	}
	if revision {
		if err := tx.Put(state.TableServiceRevs, m.newRevision(svc, td, d.ID, now)); err != nil {
			return err
		}
		sh.TargetServiceRevision = &shape.ServiceRevisionSummary{Arn: ptr(m.revisionArn(cluster, service, d.ID)), RequestedTaskCount: int32(d.DesiredCount)}
		for _, r := range replaced {
			sh.SourceServiceRevisions = append(sh.SourceServiceRevisions, summary(m.revisionArn(cluster, service, r.ID), &r))
			if err := m.stopReplaced(tx, cluster, service, r.ID, now); err != nil {
				return err
			}
		}
		sh.DeploymentConfiguration = svc.Shape.DeploymentConfiguration
		sh.DeploymentCircuitBreaker = breakerSummary(svc.Shape.DeploymentConfiguration, 0, int(svc.Shape.DesiredCount))
	}
	return tx.Put(state.TableServiceDeploys, &state.ServiceDeployment{Cluster: cluster, Service: service, ID: d.ID, Shape: sh})
}

// newRevision is the service revision of deployment id: the service's
// configuration with the deployment's task definition.
func (m *Machine) newRevision(svc *state.Service, td *state.TaskDefinition, id string, now time.Time) *state.ServiceRevision {
	s := svc.Shape
	rev := &shape.ServiceRevision{
		ServiceRevisionArn: ptr(m.revisionArn(svc.Cluster, svc.Name, id)), ServiceArn: s.ServiceArn, ClusterArn: s.ClusterArn,
		TaskDefinition: td.Def.TaskDefinitionArn, LaunchType: s.LaunchType, CapacityProviderStrategy: s.CapacityProviderStrategy,
		PlatformVersion: s.PlatformVersion, PlatformFamily: s.PlatformFamily, NetworkConfiguration: s.NetworkConfiguration,
		LoadBalancers: s.LoadBalancers, ServiceRegistries: s.ServiceRegistries, CreatedAt: shape.NewTimestamp(now),
	}
	for _, cd := range td.Def.ContainerDefinitions {
		rev.ContainerImages = append(rev.ContainerImages, shape.ContainerImage{ContainerName: cd.Name, Image: cd.Image})
	}
	return &state.ServiceRevision{Cluster: svc.Cluster, Service: svc.Name, ID: id, Shape: rev}
}

// summary is a revision summary with d's counts (all 0 for nil: the
// deployment left the deployments array, its tasks stopped).
func summary(arn string, d *state.Deployment) shape.ServiceRevisionSummary {
	s := shape.ServiceRevisionSummary{Arn: ptr(arn)}
	if d != nil {
		s.RequestedTaskCount, s.RunningTaskCount, s.PendingTaskCount = int32(d.DesiredCount), int32(d.RunningCount), int32(d.PendingCount)
	}
	return s
}

// breakerSummary is a history record's circuit breaker while its
// deployment runs.
func breakerSummary(dc *shape.DeploymentConfiguration, failures, desired int) *shape.ServiceDeploymentCircuitBreaker {
	status := shape.ServiceDeploymentRollbackMonitorsStatusDisabled
	if dc != nil && dc.DeploymentCircuitBreaker != nil && dc.DeploymentCircuitBreaker.Enable {
		status = shape.ServiceDeploymentRollbackMonitorsStatusMonitoring
	}
	return &shape.ServiceDeploymentCircuitBreaker{Status: status, FailureCount: int32(failures), Threshold: int32(BreakerThreshold(desired))}
}

// stopReplaced stops the history of deployment id, replaced by a new
// deployment, unless it had finished.
func (m *Machine) stopReplaced(tx *state.Txn, cluster, service, id string, now time.Time) error {
	sd := tx.ServiceDeployment(cluster, service, id)
	if sd == nil || ended(sd.Shape.Status) {
		return nil
	}
	return m.finishDeployment(tx, cluster, service, id, shape.ServiceDeploymentStatusStopped, now, &ending{})
}

// round is what a reconciler round tells a history record: the
// deployments after it, the service's configuration and desired count.
type round struct {
	byID    map[string]*state.Deployment
	primary *state.Deployment
	config  *shape.DeploymentConfiguration
	desired int
}

// ending is how a deployment ended: self is the deployment after the
// round (nil when it left the deployments array, or, with no round, when
// a new deployment replaced it).
type ending struct {
	self  *state.Deployment
	round *round
}

// finishDeployment records how a deployment ended (or that it is being
// rolled back) in its history record; a revised record also gets why, its
// circuit breaker's outcome, its rollback and its final counts, and so
// does any record a new deployment stops (no round: only commands with
// version 2 commands stop a record that way). A STOPPED record is not
// stopped again.
func (m *Machine) finishDeployment(tx *state.Txn, cluster, service, id string, status shape.ServiceDeploymentStatus, now time.Time, end *ending) error {
	old := tx.ServiceDeployment(cluster, service, id)
	if old == nil || status == shape.ServiceDeploymentStatusStopped && old.Shape.Status == status {
		return nil
	}
	cp := *old
	sh := *old.Shape
	sh.Status = status
	sh.UpdatedAt = shape.NewTimestamp(now)
	switch status {
	case shape.ServiceDeploymentStatusSuccessful:
		sh.FinishedAt = shape.NewTimestamp(now)
	case shape.ServiceDeploymentStatusRollbackInProgress: // not finished yet
	default:
		sh.StoppedAt = shape.NewTimestamp(now)
	}
	if revised(old) || end.round == nil {
		m.conclude(&sh, cluster, service, now, end)
	}
	cp.Shape = &sh
	return tx.Put(state.TableServiceDeploys, &cp)
}

// conclude fills what a revised history record says of how its
// deployment ended, for its new status: the statusReason (the circuit
// breaker's, or ReplacedReason), the rollback (when it starts; or when it
// ends, for a rollback that began and completed in one round), the
// circuit breaker's outcome and the final counts.
func (m *Machine) conclude(sh *shape.ServiceDeployment, cluster, service string, now time.Time, end *ending) {
	outcome := shape.ServiceDeploymentRollbackMonitorsStatusMonitoringComplete
	switch sh.Status {
	case shape.ServiceDeploymentStatusStopped:
		sh.StatusReason = ptr(ReplacedReason)
		if end.self != nil && end.self.RolloutState == rolloutFailed {
			sh.StatusReason = optional(end.self.RolloutStateReason)
			outcome = shape.ServiceDeploymentRollbackMonitorsStatusTriggered
		}
	case shape.ServiceDeploymentStatusRollbackInProgress, shape.ServiceDeploymentStatusRollbackSuccessful,
		shape.ServiceDeploymentStatusRollbackFailed:
		outcome = shape.ServiceDeploymentRollbackMonitorsStatusTriggered
		if sh.StatusReason == nil {
			sh.StatusReason = ptr(BreakerReason)
		}
		if p := end.round.primary; sh.Rollback == nil && p != nil {
			sh.Rollback = &shape.Rollback{Reason: ptr(RollbackReason(p.ID)), StartedAt: shape.NewTimestamp(now),
				ServiceRevisionArn: ptr(m.revisionArn(cluster, service, p.ID))}
		}
	}
	if end.round != nil {
		refresh(sh, end.self, end.round)
	}
	if cb := sh.DeploymentCircuitBreaker; cb != nil {
		c := *cb
		if c.Status != shape.ServiceDeploymentRollbackMonitorsStatusDisabled {
			c.Status = outcome
		}
		if outcome == shape.ServiceDeploymentRollbackMonitorsStatusTriggered {
			// It tripped at its threshold (a deployment that left in the
			// round that failed it was never counted).
			c.FailureCount = max(c.FailureCount, c.Threshold)
		}
		sh.DeploymentCircuitBreaker = &c
	}
}

// followRound keeps the revised history records of the deployments a
// round leaves in the array current: their counts and circuit breaker.
// Records that ended keep what they ended with.
func (m *Machine) followRound(tx *state.Txn, cluster, service string, deps []state.Deployment, r *round, now time.Time) error {
	for i := range deps {
		d := &deps[i]
		sd := tx.ServiceDeployment(cluster, service, d.ID)
		if sd == nil || !revised(sd) || ended(sd.Shape.Status) {
			continue
		}
		sh := *sd.Shape
		refresh(&sh, d, r)
		if sameProgress(&sh, sd.Shape) {
			continue
		}
		sh.UpdatedAt = shape.NewTimestamp(now)
		cp := *sd
		cp.Shape = &sh
		if err := tx.Put(state.TableServiceDeploys, &cp); err != nil {
			return err
		}
	}
	return nil
}

// refresh sets a revised record's counts from the deployments after a
// round and, while it runs, its circuit breaker's count and threshold. A
// deployment that left the array (self nil) keeps the count it last
// requested and runs nothing; so do the source revisions, which request
// nothing either.
func refresh(sh *shape.ServiceDeployment, self *state.Deployment, r *round) {
	target := summary(*sh.TargetServiceRevision.Arn, self)
	if self == nil {
		target.RequestedTaskCount = sh.TargetServiceRevision.RequestedTaskCount
	}
	sh.TargetServiceRevision = &target
	if len(sh.SourceServiceRevisions) > 0 {
		src := make([]shape.ServiceRevisionSummary, len(sh.SourceServiceRevisions))
		for i, s := range sh.SourceServiceRevisions {
			arn := deref(s.Arn)
			src[i] = summary(arn, r.byID["ecs-svc/"+arn[strings.LastIndexByte(arn, '/')+1:]])
		}
		sh.SourceServiceRevisions = src
	}
	if cb := sh.DeploymentCircuitBreaker; cb != nil && self != nil && !ended(sh.Status) {
		c := breakerSummary(r.config, self.FailedTasks, r.desired)
		if sh.Status == shape.ServiceDeploymentStatusRollbackInProgress {
			c.Status = cb.Status
		}
		sh.DeploymentCircuitBreaker = c
	}
}

// sameProgress reports whether two revised records hold the same counts
// and circuit breaker.
func sameProgress(a, b *shape.ServiceDeployment) bool {
	same := func(x, y shape.ServiceRevisionSummary) bool {
		return deref(x.Arn) == deref(y.Arn) && x.RequestedTaskCount == y.RequestedTaskCount &&
			x.RunningTaskCount == y.RunningTaskCount && x.PendingTaskCount == y.PendingTaskCount
	}
	if !same(*a.TargetServiceRevision, *b.TargetServiceRevision) || len(a.SourceServiceRevisions) != len(b.SourceServiceRevisions) {
		return false
	}
	for i := range a.SourceServiceRevisions {
		if !same(a.SourceServiceRevisions[i], b.SourceServiceRevisions[i]) {
			return false
		}
	}
	if (a.DeploymentCircuitBreaker == nil) != (b.DeploymentCircuitBreaker == nil) {
		return false
	}
	return a.DeploymentCircuitBreaker == nil || *a.DeploymentCircuitBreaker == *b.DeploymentCircuitBreaker
}

// revisedStatus is historyStatus for a revised record, which also tells
// a rollback that began and completed in one round: the circuit breaker
// failed the PRIMARY, none of whose tasks ran, so it left the array at
// once, and the deployment rolled back to was already healthy. Only the
// circuit breaker changes the PRIMARY within a round, so a PRIMARY that
// left beside a completed rollback is that: ROLLBACK_SUCCESSFUL.
// (historyStatus, which records made before revisions keep, calls it
// STOPPED.)
func revisedStatus(d state.Deployment, now, primary *state.Deployment, recorded shape.ServiceDeploymentStatus) shape.ServiceDeploymentStatus {
	if now == nil && d.Status == statusPrimary && primary != nil && primary.ID != d.ID && primary.Rollback &&
		primary.RolloutState == rolloutCompleted && !ended(recorded) {
		return shape.ServiceDeploymentStatusRollbackSuccessful
	}
	return historyStatus(d, now, primary, recorded)
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
func historyStatus(d state.Deployment, now, primary *state.Deployment, recorded shape.ServiceDeploymentStatus) shape.ServiceDeploymentStatus {
	if now != nil {
		switch {
		case now.RolloutState == rolloutCompleted && d.RolloutState != rolloutCompleted:
			return shape.ServiceDeploymentStatusSuccessful
		case now.RolloutState == rolloutFailed && d.RolloutState != rolloutFailed:
			if now.Status != statusPrimary {
				return shape.ServiceDeploymentStatusRollbackInProgress
			}
			return shape.ServiceDeploymentStatusStopped
		case recorded == shape.ServiceDeploymentStatusRollbackInProgress && primary != nil && primary.Rollback &&
			primary.RolloutState == rolloutFailed:
			return shape.ServiceDeploymentStatusRollbackFailed
		}
		return ""
	}
	switch {
	case recorded == shape.ServiceDeploymentStatusRollbackInProgress:
		if primary != nil && primary.Rollback && primary.RolloutState == rolloutCompleted {
			return shape.ServiceDeploymentStatusRollbackSuccessful
		}
		return shape.ServiceDeploymentStatusStopped
	case d.RolloutState == rolloutInProgress || d.RolloutState == "":
		return shape.ServiceDeploymentStatusStopped
	}
	return ""
}
