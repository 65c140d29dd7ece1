package agentapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/secretsapi"
	"berth.dev/berth/internal/shape"
)

// SecretResolver resolves a Secrets Manager reference of
// secrets[].valueFrom (secretsapi's ResolveSecretValue).
type SecretResolver interface {
	ResolveSecretValue(ctx context.Context, ref string) (string, error)
}

// ParameterResolver resolves an SSM Parameter Store reference of
// secrets[].valueFrom (ssmapi's ResolveParameter).
type ParameterResolver interface {
	ResolveParameter(ctx context.Context, ref string) (string, error)
}

// SecretsRequest is what SecretsAuthorizer is asked about: a task's
// secret references, with the execution role its task definition names
// ("" when it names none).
type SecretsRequest struct {
	TaskArn       string
	ExecutionRole string
	ValueFrom     []string
}

// SecretsAuthorizer decides whether a task's execution role may read its
// secrets. nil allows every request: IAM policies are not enforced yet;
// this is where they will be.
type SecretsAuthorizer func(ctx context.Context, req SecretsRequest) error

// RoleChecker says whether ECS tasks may assume a role (stsapi's
// CheckTaskRole).
type RoleChecker interface {
	CheckTaskRole(roleARNOrName string) error
}

type executionRoleKey struct{}

// ExecutionRole is the execution role of the task whose secrets are being
// resolved, as the resolvers' context carries it ("" when the task
// definition names none, or outside such a request).
func ExecutionRole(ctx context.Context) string {
	s, _ := ctx.Value(executionRoleKey{}).(string)
	return s
}

// secretSource says which store a valueFrom names: Secrets Manager for
// arn:PARTITION:secretsmanager:..., SSM Parameter Store for its ARNs and
// for anything else (a parameter name), as ECS decides.
func secretSource(valueFrom string) string {
	if strings.HasPrefix(valueFrom, "arn:") {
		if parts := strings.SplitN(valueFrom, ":", 4); len(parts) >= 3 && parts[2] == "secretsmanager" {
			return "asm"
		}
	}
	return "ssm"
}

// secrets answers a task's secret values to the agent that runs it. The
// answer is never logged; neither are the values in any error.
func (a *API) secrets(w http.ResponseWriter, r *http.Request, body []byte) {
	var req agentproto.SecretsRequest
	if err := decode(body, &req); err != nil {
		writeError(w, err)
		return
	}
	ci, err := a.instanceOf(clusterName(req.Cluster), req.ContainerInstanceArn)
	if err != nil {
		writeError(w, err)
		return
	}
	if deref(ci.Shape.Status) == "INACTIVE" {
		writeError(w, apierr.InvalidParameterf("Container instance %s is deregistered.", req.ContainerInstanceArn))
		return
	}
	cluster, id, err := a.taskID(ci.Cluster, req.TaskArn)
	if err != nil {
		writeError(w, err)
		return
	}
	snap := a.cfg.State.Snapshot()
	t := snap.Task(id)
	if t == nil || t.Cluster != cluster || deref(t.Shape.TaskArn) != req.TaskArn {
		writeError(w, apierr.Newf(apierr.AccessDenied, "Task %s is not assigned to container instance %s.", req.TaskArn, req.ContainerInstanceArn))
		return
	}
	if t.InstanceID != ci.ID {
		a.log.Warn("secrets refused: the task runs on another container instance", "task", req.TaskArn, "instance", ci.ID)
		writeError(w, apierr.Newf(apierr.AccessDenied, "Task %s is not assigned to container instance %s.", req.TaskArn, req.ContainerInstanceArn))
		return
	}
	if deref(t.Shape.LastStatus) == "STOPPED" || (deref(t.Shape.DesiredStatus) == "STOPPED" && !t.Draining(a.cfg.Now())) {
		writeError(w, apierr.Newf(apierr.AccessDenied, "Task %s is stopped.", req.TaskArn))
		return
	}
	td := snap.TaskDefinition(t.Family, t.Revision)
	if td == nil || td.Def == nil {
		writeError(w, apierr.Clientf("The task definition of task %s is gone.", req.TaskArn))
		return
	}
	def := td.Def
	role := deref(def.ExecutionRoleArn)
	if o := t.Shape.Overrides; o != nil && deref(o.ExecutionRoleArn) != "" {
		role = deref(o.ExecutionRoleArn)
	}
	ctx := context.WithValue(r.Context(), executionRoleKey{}, role)
	var refs []string
	for _, cd := range def.ContainerDefinitions {
		for _, s := range cd.Secrets {
			refs = append(refs, deref(s.ValueFrom))
		}
	}
	if err := a.checkExecutionRole(role, refs); err != nil {
		a.log.Info("task secrets not resolved", "task", req.TaskArn, "executionRole", role, "reason", err.Error())
		writeError(w, err)
		return
	}
	if a.cfg.AuthorizeSecrets != nil {
		if err := a.cfg.AuthorizeSecrets(ctx, SecretsRequest{TaskArn: req.TaskArn, ExecutionRole: role, ValueFrom: refs}); err != nil {
			writeError(w, err)
			return
		}
	}
	out, err := a.resolveSecrets(ctx, def)
	if err != nil {
		a.log.Info("task secrets not resolved", "task", req.TaskArn, "executionRole", role, "reason", err.Error())
		writeError(w, err)
		return
	}
	a.log.Debug("task secrets resolved", "task", req.TaskArn, "executionRole", role, "count", len(refs))
	b, err := json.Marshal(out)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// checkExecutionRole refuses secrets to a task whose execution role ECS
// tasks cannot assume, with the stoppedReason the task gets.
func (a *API) checkExecutionRole(role string, refs []string) error {
	if a.cfg.ExecutionRoles == nil || len(refs) == 0 {
		return nil
	}
	if role == "" {
		return secretsFailure(secretsReasonPrefix + "the task definition has no executionRoleArn: secrets are fetched with the task execution role.")
	}
	if err := a.cfg.ExecutionRoles.CheckTaskRole(role); err != nil {
		return secretsFailure(secretsReasonPrefix + "unable to get the credentials of the execution role: " + deploy.UnassumableRole(role))
	}
	return nil
}

// resolveSecrets resolves every secret of def's containers. The first
// failure is an error of type agentproto.SecretsFailureType whose message
// is ECS's stoppedReason for it.
func (a *API) resolveSecrets(ctx context.Context, def *shape.TaskDefinition) (*agentproto.SecretsResponse, error) {
	out := &agentproto.SecretsResponse{Containers: map[string]map[string]string{}}
	// SSM names that fail are reported together, as GetParameters does.
	var badParams []string
	for _, cd := range def.ContainerDefinitions {
		if len(cd.Secrets) == 0 {
			continue
		}
		vals := make(map[string]string, len(cd.Secrets))
		for _, s := range cd.Secrets {
			ref := deref(s.ValueFrom)
			var (
				v   string
				err error
			)
			switch secretSource(ref) {
			case "asm":
				if a.cfg.Secrets == nil {
					return nil, secretsFailure(asmReason(ref, errors.New("not served")))
				}
				v, err = a.cfg.Secrets.ResolveSecretValue(ctx, ref)
				if err != nil {
					if ctx.Err() != nil {
						return nil, ctx.Err()
					}
					return nil, secretsFailure(asmReason(ref, err))
				}
			default:
				if a.cfg.Parameters == nil {
					badParams = append(badParams, ref)
					continue
				}
				v, err = a.cfg.Parameters.ResolveParameter(ctx, ref)
				if err != nil {
					if ctx.Err() != nil {
						return nil, ctx.Err()
					}
					badParams = append(badParams, ref)
					continue
				}
			}
			vals[deref(s.Name)] = v
		}
		out.Containers[deref(cd.Name)] = vals
	}
	if len(badParams) > 0 {
		sort.Strings(badParams)
		return nil, secretsFailure(ssmReason(badParams))
	}
	return out, nil
}

// The prefix of ECS's stoppedReason for secrets that cannot be retrieved.
const secretsReasonPrefix = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "

func secretsFailure(reason string) *apierr.Error {
	return apierr.New(agentproto.SecretsFailureType, reason)
}

// asmReason is ECS's reason for a Secrets Manager secret that cannot be
// read. It is built from the error's kind, never from a value.
func asmReason(ref string, err error) string {
	return secretsReasonPrefix + "unable to retrieve secret from asm: service call has been retried 1 time(s): " +
		fmt.Sprintf("failed to fetch secret %s from secrets manager: %s", ref, asmError(ref, err))
}

// asmError is the Secrets Manager error ECS's agent would have seen for
// err (a *secretsapi.ReferenceError), in its words.
func asmError(ref string, err error) string {
	switch {
	case errors.Is(err, secretsapi.ErrSecretNotFound):
		return "ResourceNotFoundException: Secrets Manager can't find the specified secret."
	case errors.Is(err, secretsapi.ErrSecretDeleted):
		return "InvalidRequestException: You can't perform this operation on the secret because it was marked for deletion."
	case errors.Is(err, secretsapi.ErrVersionNotFound):
		return "ResourceNotFoundException: Secrets Manager can't find the specified secret value."
	case errors.Is(err, secretsapi.ErrNotJSON), errors.Is(err, secretsapi.ErrKeyNotFound):
		// The ECS agent's words for a JSON key it cannot find.
		key := ""
		if r, perr := secretsapi.ParseReference(ref); perr == nil {
			key = r.JSONKey
		}
		return "retrieved secret from Secrets Manager did not contain json key " + key
	case errors.Is(err, secretsapi.ErrInvalidReference):
		return "ValidationException: Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!"
	case errors.Is(err, secretsapi.ErrUnreadable):
		return "DecryptionFailure: Secrets Manager can't decrypt the protected secret text using the provided KMS key."
	}
	return "InternalServiceError: Secrets Manager could not answer."
}

// ssmReason is ECS's reason for SSM parameters that cannot be read.
func ssmReason(names []string) string {
	return secretsReasonPrefix + "unable to retrieve secrets from ssm: service call has been retried 1 time(s): " +
		"InvalidParameters: [" + strings.Join(names, ", ") + "]"
}
