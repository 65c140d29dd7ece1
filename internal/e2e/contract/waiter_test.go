package contract

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// pollInterval replaces the provider's backoff (100 ms doubling to 10 s,
// after an initial Delay of up to 10 s): the only liberty the mirror
// takes.
const pollInterval = 50 * time.Millisecond

// stateChange mirrors the Terraform plugin SDK's retry.StateChangeConf
// with its defaults (NotFoundChecks 20, ContinuousTargetOccurence 1):
// refresh until the state is a target; a refresh error ends the wait with
// that error; a nil result means "not found", which is the target when
// there is none and an error after 20 in a row otherwise; any other state
// that is neither pending nor a target is an error.
type stateChange struct {
	pending, target []string
	refresh         func() (any, string, error)
	timeout         time.Duration
}

func (s stateChange) wait(c context.Context) (any, error) {
	c, cancel := context.WithTimeout(c, s.timeout)
	defer cancel()
	notFound := 0
	for {
		res, state, err := s.refresh()
		if err != nil {
			return res, err
		}
		switch {
		case res == nil && len(s.target) == 0:
			return nil, nil
		case res == nil:
			if notFound++; notFound > 20 {
				return nil, fmt.Errorf("couldn't find resource (%d retries)", notFound)
			}
		case slices.Contains(s.target, state):
			return res, nil
		case !slices.Contains(s.pending, state) && len(s.pending) > 0:
			return res, fmt.Errorf("unexpected state '%s', wanted target '%v'", state, s.target)
		default:
			notFound = 0
		}
		select {
		case <-c.Done():
			return res, fmt.Errorf("timeout while waiting for state to become '%v' (last state: '%s')", s.target, state)
		case <-time.After(pollInterval):
		}
	}
}
