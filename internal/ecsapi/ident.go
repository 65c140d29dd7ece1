package ecsapi

import (
	"regexp"
	"strconv"
	"strings"
	"sync"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/fsm"
)

var namePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9\-_]{1,255}$`) })

// clusterName resolves a cluster parameter (name or ARN; absent = default).
// A well-formed ARN of another region or account resolves to a name that
// matches nothing here.
func (a *API) clusterName(in *string) (string, error) {
	if in == nil || *in == "" {
		return "default", nil
	}
	s := *in
	if arn.IsARN(s) {
		p, err := arn.Parse(s)
		if err != nil || p.Type != arn.TypeCluster || len(p.Path) != 1 || !namePattern().MatchString(p.Path[0]) {
			return "", apierr.InvalidParameterf("Cluster ARN %s is not valid. Specify a cluster name or a cluster ARN such as %s.", echo(s), a.cfg.Namer.Cluster("name"))
		}
		if !a.cfg.Namer.Owns(p) {
			return "", fsm.ErrClusterNotFound()
		}
		return p.Path[0], nil
	}
	if !namePattern().MatchString(s) {
		return "", apierr.InvalidParameterf("Cluster must match ^[a-zA-Z0-9\\-_]{1,255}$, but was %s", echo(s))
	}
	return s, nil
}

var idPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
})

// resourceID resolves a task or container instance reference (ID or ARN) in
// cluster. ok is false when the reference cannot name a resource there.
func (a *API) resourceID(kind, cluster, in string) (id string, ok bool) {
	if !arn.IsARN(in) {
		return in, idPattern().MatchString(in)
	}
	p, err := arn.Parse(in)
	if err != nil || p.Type != kind || !a.cfg.Namer.Owns(p) {
		return "", false
	}
	switch len(p.Path) {
	case 1: // old short form: TYPE/ID
		return p.Path[0], idPattern().MatchString(p.Path[0])
	case 2:
		return p.Path[1], p.Path[0] == cluster && idPattern().MatchString(p.Path[1])
	}
	return "", false
}

// failureARN is the ARN a batch failure names for a reference.
func (a *API) failureARN(kind, cluster, in string) string {
	if arn.IsARN(in) {
		return in
	}
	switch kind {
	case arn.TypeContainerInstance:
		return a.cfg.Namer.ContainerInstance(cluster, in)
	case arn.TypeTask:
		return a.cfg.Namer.Task(cluster, in)
	}
	return in
}

var familyPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`) })

// taskDefRef splits "family", "family:rev" or a task definition ARN.
// revision is 0 when none was given.
func (a *API) taskDefRef(in string) (family string, revision int32, err error) {
	s := in
	if arn.IsARN(s) {
		p, perr := arn.Parse(s)
		if perr != nil || p.Type != arn.TypeTaskDefinition || len(p.Path) != 1 {
			return "", 0, apierr.InvalidParameterf("Task definition ARN %s is not valid.", echo(in))
		}
		if !a.cfg.Namer.Owns(p) {
			return "", 0, errTaskDefNotFound()
		}
		s = p.Path[0]
		if !strings.Contains(s, ":") {
			return "", 0, apierr.InvalidParameterf("Task definition ARN %s has no revision.", echo(in))
		}
	}
	family, rev, hasRev := strings.Cut(s, ":")
	if !familyPattern().MatchString(family) {
		return "", 0, errTaskDefNotFound()
	}
	if !hasRev {
		return family, 0, nil
	}
	n, perr := strconv.ParseInt(rev, 10, 32)
	if perr != nil || n < 1 {
		return "", 0, apierr.Clientf("Invalid revision number. Number: %s", echo(rev))
	}
	return family, int32(n), nil
}

func errTaskDefNotFound() error {
	return apierr.New(apierr.Client, "Unable to describe task definition.")
}

func isARN(s string) bool { return arn.IsARN(s) }

// historyRef splits the ARN of a service deployment or a service revision
// (typ) of this server: its cluster, its service and the ID of its
// deployment (ecs-svc/N for an ARN that ends in N).
func (a *API) historyRef(s, typ string) (cluster, service, id string, ok bool) {
	p, err := arn.Parse(s)
	if err != nil || p.Type != typ || len(p.Path) != 3 || !a.cfg.Namer.Owns(p) {
		return "", "", "", false
	}
	return p.Path[0], p.Path[1], "ecs-svc/" + p.Path[2], true
}
