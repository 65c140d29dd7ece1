// Package logsapi serves the Amazon CloudWatch Logs API (service logs, AWS
// JSON 1.1, target prefix Logs_20140328, camelCase members, error member
// message) on berth's AWS protocol edge, over the server's local log store
// (internal/logstore). Log events and log groups never go through raft:
// see docs/logs.md for what that means for clusters of several servers.
//
// Served: CreateLogGroup, DeleteLogGroup, DescribeLogGroups,
// PutRetentionPolicy, DeleteRetentionPolicy, CreateLogStream,
// DeleteLogStream, DescribeLogStreams, PutLogEvents, GetLogEvents,
// FilterLogEvents, TagLogGroup, UntagLogGroup, ListTagsLogGroup,
// TagResource, UntagResource, ListTagsForResource. The model's other
// operations answer UnknownOperationException ("not supported yet").
package logsapi

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/logsshape"
	"berth.dev/berth/internal/logstore"
)

// TargetPrefix is the X-Amz-Target prefix of the CloudWatch Logs API.
const TargetPrefix = "Logs_20140328"

// Error codes.
const (
	CodeInvalidParameter      = "InvalidParameterException"
	CodeResourceNotFound      = "ResourceNotFoundException"
	CodeResourceAlreadyExists = "ResourceAlreadyExistsException"
	CodeLimitExceeded         = "LimitExceededException"
	CodeServiceUnavailable    = "ServiceUnavailableException"
)

// Messages CloudWatch Logs answers.
const (
	MsgGroupExists      = "The specified log group already exists"
	MsgStreamExists     = "The specified log stream already exists"
	MsgGroupNotFound    = "The specified log group does not exist."
	MsgStreamNotFound   = "The specified log stream does not exist."
	MsgInvalidNextToken = "The specified nextToken is invalid."
)

// Config wires an API.
type Config struct {
	// Partition ("aws"), Region and Account build ARNs.
	Partition, Region, Account string
	// Store holds the log groups, streams and events.
	Store *logstore.Store
	// Now is the clock PutLogEvents judges timestamps by; default time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// API is the CloudWatch Logs API.
type API struct {
	cfg Config
	log *slog.Logger
}

// New returns an API over cfg.Store.
func New(cfg Config) *API {
	if cfg.Partition == "" {
		cfg.Partition = "aws"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &API{cfg: cfg, log: cfg.Log.With("component", "logsapi")}
}

// Store is the API's log store.
func (a *API) Store() *logstore.Store { return a.cfg.Store }

// Service describes the CloudWatch Logs API to the protocol edge.
func (a *API) Service() awsproto.Service {
	return awsproto.Service{
		Name: "CloudWatch Logs", SigningName: "logs", Protocol: awsproto.JSON11, TargetPrefix: TargetPrefix,
		ErrorMessageMember: "message",
		// A PutLogEvents batch is up to 1 MiB of events; JSON escaping
		// can grow it.
		MaxBody: 8 << 20,
		Operations: map[string]awsproto.Operation{
			"CreateLogGroup":        awsproto.Handle(a.createLogGroup),
			"DeleteLogGroup":        awsproto.Handle(a.deleteLogGroup),
			"DescribeLogGroups":     awsproto.Handle(a.describeLogGroups),
			"PutRetentionPolicy":    awsproto.Handle(a.putRetentionPolicy),
			"DeleteRetentionPolicy": awsproto.Handle(a.deleteRetentionPolicy),
			"CreateLogStream":       awsproto.Handle(a.createLogStream),
			"DeleteLogStream":       awsproto.Handle(a.deleteLogStream),
			"DescribeLogStreams":    awsproto.Handle(a.describeLogStreams),
			"PutLogEvents":          awsproto.Handle(a.putLogEvents),
			"GetLogEvents":          awsproto.Handle(a.getLogEvents),
			"FilterLogEvents":       awsproto.Handle(a.filterLogEvents),
			"TagLogGroup":           awsproto.Handle(a.tagLogGroup),
			"UntagLogGroup":         awsproto.Handle(a.untagLogGroup),
			"ListTagsLogGroup":      awsproto.Handle(a.listTagsLogGroup),
			"TagResource":           awsproto.Handle(a.tagResource),
			"UntagResource":         awsproto.Handle(a.untagResource),
			"ListTagsForResource":   awsproto.Handle(a.listTagsForResource),
		},
		Known:    func(op string) bool { return slices.Contains(logsshape.Operations, op) },
		MapError: mapError,
	}
}

// RunRetention enforces the groups' retention every interval until ctx
// ends (and once at start).
func (a *API) RunRetention(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := a.cfg.Store.Enforce(a.cfg.Now()); err != nil {
			a.log.Warn("log retention", "err", err)
		} else if n > 0 {
			a.log.Debug("log segments past retention deleted", "segments", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func logsError(code, msg string) *awsproto.Error {
	status, ok := logsshape.ErrorStatus[code]
	if !ok {
		status = 400
	}
	return awsproto.WithStatus(status, code, msg)
}

func invalid(msg string) *awsproto.Error { return logsError(CodeInvalidParameter, msg) }

// validation is the AWS "1 validation error detected" message.
func validation(value, member, constraint string) *awsproto.Error {
	return invalid("1 validation error detected: Value '" + value + "' at '" + member + "' failed to satisfy constraint: " + constraint)
}

func missing(member string) *awsproto.Error {
	return validation("null", member, "Member must not be null")
}

func mapError(err error) (*awsproto.Error, bool) {
	switch {
	case errors.Is(err, logstore.ErrGroupNotFound):
		return logsError(CodeResourceNotFound, MsgGroupNotFound), true
	case errors.Is(err, logstore.ErrStreamNotFound):
		return logsError(CodeResourceNotFound, MsgStreamNotFound), true
	case errors.Is(err, logstore.ErrGroupExists):
		return logsError(CodeResourceAlreadyExists, MsgGroupExists), true
	case errors.Is(err, logstore.ErrStreamExists):
		return logsError(CodeResourceAlreadyExists, MsgStreamExists), true
	case errors.Is(err, logstore.ErrClosed):
		return logsError(CodeServiceUnavailable, "The service is shutting down."), true
	}
	return nil, false
}

// ---- names and ARNs ----

func validGroupName(member string, p *string) (string, error) {
	if p == nil {
		return "", missing(member)
	}
	n := *p
	if len(n) < 1 || len(n) > 512 {
		return "", validation(n, member, "Member must have length between 1 and 512")
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c == '.' || c == '-' || c == '_' || c == '/' || c == '#' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return "", validation(n, member, `Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`)
		}
	}
	return n, nil
}

func validStreamName(member string, p *string) (string, error) {
	if p == nil {
		return "", missing(member)
	}
	n := *p
	if len(n) < 1 || len(n) > 512 {
		return "", validation(n, member, "Member must have length between 1 and 512")
	}
	if strings.ContainsAny(n, ":*") {
		return "", validation(n, member, "Member must satisfy regular expression pattern: [^:*]*")
	}
	return n, nil
}

func (a *API) arnPrefix() string {
	return "arn:" + a.cfg.Partition + ":logs:" + a.cfg.Region + ":" + a.cfg.Account + ":log-group:"
}

// groupARN is the log group's ARN without the trailing ":*" (logGroupArn).
func (a *API) groupARN(name string) string { return a.arnPrefix() + name }

// groupFromARN finds the group name in a log group ARN (with or without ":*").
func (a *API) groupFromARN(arn string) (string, bool) {
	rest, ok := strings.CutPrefix(arn, a.arnPrefix())
	if !ok {
		return "", false
	}
	rest = strings.TrimSuffix(rest, ":*")
	if rest == "" || strings.Contains(rest, ":") {
		return "", false
	}
	return rest, true
}

// groupIdentifier resolves logGroupName / logGroupIdentifier (a name or ARN).
func (a *API) groupIdentifier(name, ident *string) (string, error) {
	switch {
	case name != nil && ident != nil:
		return "", invalid("LogGroupName and LogGroupIdentifier are mutually exclusive parameters.")
	case ident != nil:
		if n, ok := a.groupFromARN(*ident); ok {
			return n, nil
		}
		if strings.HasPrefix(*ident, "arn:") {
			return "", logsError(CodeResourceNotFound, MsgGroupNotFound)
		}
		return validGroupName("logGroupIdentifier", ident)
	}
	return validGroupName("logGroupName", name)
}

func ptr[T any](v T) *T { return &v }
