package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/taskplan"
)

// secretSource fetches a task's secret values from the server
// (agentproto.PathSecret).
type secretSource interface {
	FetchSecrets(ctx context.Context, req agentproto.SecretsRequest) (*agentproto.SecretsResponse, error)
}

// secretsRefused is the server's answer that a secret cannot be resolved:
// its reason is the task's stoppedReason (never a value).
type secretsRefused struct{ reason string }

func (e *secretsRefused) Error() string { return e.reason }

// FetchSecrets asks the server for a task's secret values. The answer is
// never logged.
func (c *serverClient) FetchSecrets(ctx context.Context, req agentproto.SecretsRequest) (*agentproto.SecretsResponse, error) {
	hreq, err := c.signedRequest(ctx, http.MethodPost, agentproto.PathSecret, req)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("fetch secrets: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := apiError(resp)
		if msg, ok := strings.CutPrefix(err.Error(), agentproto.SecretsFailureType+": "); ok {
			return nil, &secretsRefused{reason: agentproto.SecretsFailureType + ": " + msg}
		}
		return nil, err
	}
	var out agentproto.SecretsResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("fetch secrets: the answer is not valid JSON")
	}
	return &out, nil
}

// secPhase is where a task's secrets are. A task without secrets stays
// secNone and is never held.
//
// The runner fetches the secrets from the server before it creates any
// container (pulls go on meanwhile) and keeps them in memory only: the
// task's record holds the definition (the valueFrom references), never a
// value. They reach the runtime in driver.Spec.Secrets (see there for
// what each runtime does with them). An agent that restarts fetches them
// again for the containers it still has to create.
type secPhase int

const (
	secNone     secPhase = iota // not fetched
	secFetching                 // the request is in flight
	secReady                    // r.secretVals holds them
	secFailed                   // the task stops (TaskFailedToStart)
)

// hasSecrets reports whether any container of the task has secrets.
func (r *runner) hasSecrets() bool {
	if r.task.Definition == nil {
		return false
	}
	for _, cd := range r.task.Definition.ContainerDefinitions {
		if len(cd.Secrets) > 0 {
			return true
		}
	}
	return false
}

// holdForSecrets filters a decision's actions while the task's secrets are
// not fetched: creates wait for them, and the first one starts the fetch.
func (r *runner) holdForSecrets(ctx context.Context, d taskplan.Decision) taskplan.Decision {
	if r.sec == secReady || !r.hasSecrets() {
		return d
	}
	kept := d.Actions[:0:0]
	for _, act := range d.Actions {
		if act.Kind == taskplan.Create {
			if r.sec == secNone && !r.held && d.Desired != taskplan.DesiredStopped {
				r.fetchSecrets(ctx)
			}
			continue
		}
		kept = append(kept, act)
	}
	d.Actions = kept
	return d
}

// secretsAttempts and secretsRetryWait bound the fetch when the server
// cannot be reached (a refusal is final at once).
const (
	secretsAttempts  = 3
	secretsRetryWait = time.Second
)

// fetchSecrets asks the server for the task's secrets in the background.
func (r *runner) fetchSecrets(ctx context.Context) {
	r.sec = secFetching
	inst := r.a.store.instance()
	req := agentproto.SecretsRequest{Cluster: r.a.cfg.Cluster, ContainerInstanceArn: inst.ContainerInstanceArn, TaskArn: r.task.TaskArn}
	store := secretStore(r.task)
	r.async(ctx, 0, func(ctx context.Context) event {
		var err error
		for attempt := 1; ; attempt++ {
			var resp *agentproto.SecretsResponse
			actx, cancel := context.WithTimeout(ctx, 30*time.Second)
			resp, err = r.a.srv.FetchSecrets(actx, req)
			cancel()
			if err == nil {
				return event{kind: evSecrets, secrets: resp.Containers}
			}
			var refused *secretsRefused
			if errors.As(err, &refused) || ctx.Err() != nil || attempt == secretsAttempts {
				break
			}
			select {
			case <-time.After(secretsRetryWait):
			case <-ctx.Done():
			}
		}
		var refused *secretsRefused
		if errors.As(err, &refused) {
			return event{kind: evSecrets, err: err}
		}
		return event{kind: evSecrets, err: &secretsRefused{reason: unreachableReason(store, secretsAttempts-1, err)}}
	})
}

// secretStore names the store of the task's first secret, for the reason
// of a fetch that never reached the server: "asm" or "ssm".
func secretStore(t agentproto.Task) string {
	for _, cd := range t.Definition.ContainerDefinitions {
		for _, s := range cd.Secrets {
			if strings.HasPrefix(deref(s.ValueFrom), "arn:") && strings.Contains(deref(s.ValueFrom), ":secretsmanager:") {
				return "asm"
			}
			return "ssm"
		}
	}
	return "ssm"
}

// unreachableReason is ECS's stoppedReason when the secrets could not be
// fetched at all.
func unreachableReason(store string, retries int, err error) string {
	what := "unable to retrieve secrets from ssm"
	if store == "asm" {
		what = "unable to retrieve secret from asm"
	}
	return fmt.Sprintf("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: %s: service call has been retried %d time(s): %v",
		what, retries, err)
}

// applySecrets records the outcome of fetchSecrets. A failure stops the
// task before any container is created: every container not created yet
// fails with the reason, which becomes the task's stoppedReason
// (TaskFailedToStart).
func (r *runner) applySecrets(ev event) {
	r.inflight--
	if ev.err == nil {
		r.secretVals, r.sec = ev.secrets, secReady
		if r.secretVals == nil {
			r.secretVals = map[string]map[string]string{}
		}
		return
	}
	r.sec = secFailed
	reason := ev.err.Error()
	r.log.Warn("task secrets not fetched", "reason", reason)
	now := time.Now()
	for i := range r.plan.States {
		s := &r.plan.States[i]
		if s.Phase < taskplan.PhaseCreated && s.Err == "" {
			s.Err, s.FinishedAt = reason, now
		}
	}
}

// withSecrets adds container name's secrets to spec: they win over
// environment entries of the same name, as with ECS's agent (its
// MergeEnvironmentVariables), and travel in Spec.Secrets, not Env.
func withSecrets(spec *driver.Spec, vals map[string]string) {
	if len(vals) == 0 {
		return
	}
	spec.Env = slices.DeleteFunc(spec.Env, func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		_, secret := vals[k]
		return secret
	})
	names := make([]string, 0, len(vals))
	for k := range vals {
		names = append(names, k)
	}
	slices.Sort(names)
	spec.Secrets = make([]string, 0, len(names))
	for _, k := range names {
		spec.Secrets = append(spec.Secrets, k+"="+vals[k])
	}
}
