package main

import (
	"time"

	"berth.dev/berth/bench/internal/harness"
)

// rolloutTask is what a run's summary reads of one task, whichever system
// ran it.
type rolloutTask struct {
	version string    // "v1" or "v2"
	created time.Time // when the system created it
	healthy time.Time // v2: when it was seen healthy, if it still is; zero otherwise
	ended   time.Time // v1: when it stopped
}

// rolloutEnd is how a run saw its rollout end.
type rolloutEnd struct {
	t0       time.Time // the update request
	seen     time.Time // the first poll that saw it complete
	reported time.Time // the system's own completion time; zero when it gave none
	// noReport is the note for a system that gave no completion time.
	noReport string
	// The poller's counts and its first error.
	polls, errs int
	firstErr    string
}

// summarise fills in r's poll counts, completion times, and the first new
// task, the last v2 task healthy and the last v1 task stopped.
func (r *result) summarise(end rolloutEnd, tasks map[string]rolloutTask) {
	r.polls, r.pollErrors = end.polls, end.errs
	if end.errs > 0 {
		r.note("%d of %d polls failed, asked again at the next one (first: %s)", end.errs, end.polls, shortErr(end.firstErr))
	}
	r.completedSeen = end.seen.Sub(end.t0)
	if !end.reported.IsZero() {
		r.completed = end.reported.Sub(end.t0)
	} else {
		r.completed = r.completedSeen
		r.note("%s", end.noReport)
	}
	var firstNew, lastHealthy, lastStopped time.Time
	for _, t := range tasks {
		switch t.version {
		case "v2":
			lastHealthy = latest(lastHealthy, t.healthy)
			if firstNew.IsZero() || t.created.Before(firstNew) {
				firstNew = t.created
			}
		case "v1":
			lastStopped = latest(lastStopped, t.ended)
		}
	}
	r.firstNew, r.allHealthy, r.oldStopped = since(end.t0, firstNew), since(end.t0, lastHealthy), since(end.t0, lastStopped)
}

// containerTimes fills in r's first and last v2 container start and the
// median time from a container's start to its task seen healthy; starts
// and tasks share their keys (the task's ID in its system).
func (r *result) containerTimes(t0 time.Time, starts map[string]time.Time, tasks map[string]rolloutTask) {
	var toHealthy []float64
	for id, st := range starts {
		r.firstStart = minPos(r.firstStart, st.Sub(t0))
		r.lastStart = max(r.lastStart, st.Sub(t0))
		if t, ok := tasks[id]; ok && !t.healthy.IsZero() {
			toHealthy = append(toHealthy, t.healthy.Sub(st).Seconds())
		}
	}
	r.startToHealthy = time.Duration(harness.Median(toHealthy) * float64(time.Second))
}
