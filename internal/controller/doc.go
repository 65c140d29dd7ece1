// Package controller runs the leader's service scheduler: for every ACTIVE
// or DRAINING service it builds the reconciler's input from a state
// snapshot, calls deploy.Reconcile (pure), and applies the result: a
// ServiceRound command (stops, lost tasks, deployments, events), then the
// starts, placed with the scheduler and committed as RunTask commands whose
// placements the state machine re-checks.
//
// It is driven by state watches (services, and the tasks and container
// instances of the clusters with services) and by the reconciler's wake
// times, not by a polling interval. A pass reads every service from one
// snapshot and each cluster's tasks and instances once, not once per
// service: it costs O(tasks + services × instances), plus the rounds'
// own work. Rounds are optimistic: a round computed on a service that
// changed since (its generation) is refused by the state machine and
// computed again.
package controller
