package agentapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/stsapi"
)

// RoleCredentialsIssuer issues STS temporary credentials of a role for a
// task (stsapi's IssueRoleCredentials: the role's trust policy must allow
// the service ecs-tasks.amazonaws.com).
type RoleCredentialsIssuer interface {
	IssueRoleCredentials(ctx context.Context, roleARNOrName, sessionName string, d time.Duration) (stsapi.Credentials, error)
}

// TaskCredentialsDuration is the lifetime of the credentials issued to a
// task's role; agents refresh them well before they expire.
const TaskCredentialsDuration = time.Hour

// credentials issues the temporary credentials of a task's role to the
// agent that runs it; the session name is the task ID, as on ECS. The
// answer is never logged.
func (a *API) credentials(w http.ResponseWriter, r *http.Request, body []byte) {
	var req agentproto.CredentialsRequest
	if err := decode(body, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Role != "" && req.Role != agentproto.CredentialsTaskRole && req.Role != agentproto.CredentialsExecutionRole {
		writeError(w, apierr.InvalidParameterf("Unknown role %q: use %s or %s.", req.Role, agentproto.CredentialsTaskRole, agentproto.CredentialsExecutionRole))
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
	denied := apierr.Newf(apierr.AccessDenied, "Task %s is not assigned to container instance %s.", req.TaskArn, req.ContainerInstanceArn)
	if t == nil || t.Cluster != cluster || deref(t.Shape.TaskArn) != req.TaskArn {
		writeError(w, denied)
		return
	}
	if t.InstanceID != ci.ID {
		a.log.Warn("credentials refused: the task runs on another container instance", "task", req.TaskArn, "instance", ci.ID)
		writeError(w, denied)
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
	role := deref(td.Def.TaskRoleArn)
	o := t.Shape.Overrides
	if o != nil && deref(o.TaskRoleArn) != "" {
		role = deref(o.TaskRoleArn)
	}
	if req.Role == agentproto.CredentialsExecutionRole {
		role = deref(td.Def.ExecutionRoleArn)
		if o != nil && deref(o.ExecutionRoleArn) != "" {
			role = deref(o.ExecutionRoleArn)
		}
	}
	if role == "" {
		writeError(w, apierr.InvalidParameterf("Task %s has no %s role.", req.TaskArn, roleKind(req.Role)))
		return
	}
	if a.cfg.Credentials == nil {
		writeError(w, apierr.Newf(apierr.AccessDenied, "Task role credentials are not served."))
		return
	}
	creds, err := a.cfg.Credentials.IssueRoleCredentials(r.Context(), role, id, TaskCredentialsDuration)
	if err != nil {
		a.log.Info("task role credentials not issued", "task", req.TaskArn, "role", role, "reason", err.Error())
		writeError(w, err)
		return
	}
	a.log.Debug("task role credentials issued", "task", req.TaskArn, "role", role, "accessKeyId", creds.AccessKeyID, "expiration", creds.Expiration)
	roleArn := role
	if ir := snap.IAMRole(role); ir != nil && ir.ARN != "" {
		roleArn = ir.ARN
	}
	b, err := json.Marshal(agentproto.CredentialsResponse{RoleArn: roleArn, AccessKeyID: creds.AccessKeyID,
		SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken, Expiration: creds.Expiration.UTC()})
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

func roleKind(r string) string {
	if r == agentproto.CredentialsExecutionRole {
		return "execution"
	}
	return "task"
}
