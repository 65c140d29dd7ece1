package fsm

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// Cloud Map's error codes for the rules the appliers keep.
const (
	SDInvalidInput              = "InvalidInput"
	SDNamespaceAlreadyExists    = "NamespaceAlreadyExists"
	SDNamespaceNotFound         = "NamespaceNotFound"
	SDServiceAlreadyExists      = "ServiceAlreadyExists"
	SDServiceNotFound           = "ServiceNotFound"
	SDInstanceNotFound          = "InstanceNotFound"
	SDResourceInUse             = "ResourceInUse"
	SDResourceLimitExceeded     = "ResourceLimitExceeded"
	SDCustomHealthNotFound      = "CustomHealthNotFound"
	SDResourceNotFound          = "ResourceNotFoundException"
	SDTooManyTags               = "TooManyTagsException"
	SDAttributesLimitExceeded   = "ServiceAttributesLimitExceededException"
	SDOperationNotFound         = "OperationNotFound"
	SDDuplicateRequest          = "DuplicateRequest"
	SDOperationCannotCreateZone = "CANNOT_CREATE_HOSTED_ZONE"
)

// Cloud Map's limits the appliers keep.
const (
	SDMaxNamespaces        = 50   // namespaces per account (Cloud Map's default quota)
	SDMaxServices          = 100  // services per namespace
	SDMaxInstances         = 1000 // instances per service
	SDMaxTags              = 50
	SDMaxServiceAttributes = 30
	// SDMaxOperations is how many operations are kept: when a command adds
	// one beyond it, the oldest finished ones (by UpdatedAt, then ID) go.
	SDMaxOperations = 1000
)

// SDConflict is the error of a create whose name is taken: the API's
// NamespaceAlreadyExists and ServiceAlreadyExists carry these members.
type SDConflict struct {
	Err                                                  *apierr.Error
	CreatorRequestID, NamespaceID, ServiceID, ServiceARN string
}

func (e *SDConflict) Error() string { return e.Err.Error() }

func (e *SDConflict) Unwrap() error { return e.Err }

// SDResult is what the asynchronous commands return: the operation they
// recorded (nil when the command named no operation ID).
type SDResult struct {
	Operation *state.SDOperation
}

// ErrSDNamespaceNotFound is Cloud Map's answer for an unknown namespace.
func ErrSDNamespaceNotFound(id string) *apierr.Error {
	return apierr.Newf(SDNamespaceNotFound, "Namespace not found: %s", id)
}

// ErrSDServiceNotFound is Cloud Map's answer for an unknown service.
func ErrSDServiceNotFound(id string) *apierr.Error {
	return apierr.Newf(SDServiceNotFound, "Service not found: %s", id)
}

// ErrSDInstanceNotFound is Cloud Map's answer for an unknown instance.
func ErrSDInstanceNotFound(serviceID, id string) *apierr.Error {
	return apierr.Newf(SDInstanceNotFound, "Instance not found: %s (service %s)", id, serviceID)
}

// recordSDOperation stores a finished operation and keeps the table
// within SDMaxOperations.
func recordSDOperation(tx *state.Txn, c wire.Meta, op wire.SDOp, typ string, targets map[string]string, failCode, failMsg string) (*SDResult, error) {
	if op.OperationID == "" {
		// A command of the control plane (ECS registering a task) that
		// no client polls records no operation.
		return &SDResult{}, nil
	}
	o := &state.SDOperation{ID: op.OperationID, Type: typ, Status: "SUCCESS", Targets: targets, CreatedAt: c.Now, UpdatedAt: c.Now}
	if failCode != "" {
		o.Status, o.ErrorCode, o.ErrorMessage = "FAIL", failCode, failMsg
	}
	if err := tx.PutSDOperation(o); err != nil {
		return nil, err
	}
	var all []*state.SDOperation
	tx.SDOperations("", func(x *state.SDOperation) bool { all = append(all, x); return true })
	if len(all) > SDMaxOperations {
		slices.SortFunc(all, func(a, b *state.SDOperation) int {
			if c := a.UpdatedAt.Compare(b.UpdatedAt); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		for _, x := range all[:len(all)-SDMaxOperations] {
			if x.ID == o.ID {
				continue
			}
			if err := tx.DeleteSDOperation(x); err != nil {
				return nil, err
			}
		}
	}
	return &SDResult{Operation: o}, nil
}

func sdTagsFromWire(in []wire.SDTag) []state.SDTag {
	var out []state.SDTag
	for _, t := range in {
		out = append(out, state.SDTag{Key: t.Key, Value: t.Value})
	}
	return out
}

func sdTagsToWire(in []state.SDTag) []wire.SDTag {
	var out []wire.SDTag
	for _, t := range in {
		out = append(out, wire.SDTag{Key: t.Key, Value: t.Value})
	}
	return out
}

func mergeSDTags(arn string, old []state.SDTag, add []wire.SDTag) ([]state.SDTag, error) {
	out := append([]state.SDTag{}, old...)
	for _, t := range add {
		i := slices.IndexFunc(out, func(o state.SDTag) bool { return o.Key == t.Key })
		if i >= 0 {
			out[i].Value = t.Value
		} else {
			out = append(out, state.SDTag{Key: t.Key, Value: t.Value})
		}
	}
	if len(out) > SDMaxTags {
		return nil, apierr.Newf(SDTooManyTags, "The resource %s would have %d tags: a resource can have at most %d.", arn, len(out), SDMaxTags)
	}
	return out, nil
}

func applyCreateSDNamespace(m *Machine, tx *state.Txn, c *wire.CreateSDNamespace) (any, error) {
	var same *state.SDNamespace
	// A name is taken by a namespace of any type: every namespace's
	// HttpName is its name, which DiscoverInstances looks up.
	tx.SDNamespacesByName(c.Name, func(n *state.SDNamespace) bool {
		same = n
		return false
	})
	if same == nil {
		// Names clash case-insensitively for DNS namespaces.
		tx.SDNamespaces("", func(n *state.SDNamespace) bool {
			if n.Type != "HTTP" && c.NamespaceType != "HTTP" && strings.EqualFold(strings.TrimSuffix(n.Name, "."), strings.TrimSuffix(c.Name, ".")) {
				same = n
				return false
			}
			return true
		})
	}
	if same != nil {
		if c.CreatorRequestID != "" && same.CreatorRequestID == c.CreatorRequestID && same.Type == c.NamespaceType {
			return recordSDOperation(tx, c.Meta, c.SDOp, "CREATE_NAMESPACE", map[string]string{"NAMESPACE": same.ID}, "", "")
		}
		if same.Type == "DNS_PRIVATE" && c.NamespaceType == "DNS_PRIVATE" {
			// Cloud Map accepts the call and fails the operation: Route 53
			// refuses a second private zone of that name in the VPC.
			return recordSDOperation(tx, c.Meta, c.SDOp, "CREATE_NAMESPACE", map[string]string{"NAMESPACE": c.ID}, SDOperationCannotCreateZone,
				fmt.Sprintf("ConflictingDomainExists: The VPC %s in region us-east-1 has already been associated with the hosted zone %s with the same domain name.", vpcOr(c.Vpc), same.HostedZoneID))
		}
		return nil, &SDConflict{Err: apierr.Newf(SDNamespaceAlreadyExists, "Namespace %s already exists.", c.Name),
			CreatorRequestID: same.CreatorRequestID, NamespaceID: same.ID}
	}
	count := 0
	tx.SDNamespaces("", func(*state.SDNamespace) bool { count++; return true })
	if count >= SDMaxNamespaces {
		return nil, apierr.Newf(SDResourceLimitExceeded, "The namespace limit of %d has been reached.", SDMaxNamespaces)
	}
	if len(c.Tags) > SDMaxTags {
		return nil, apierr.Newf(SDTooManyTags, "The namespace %s would have %d tags: a resource can have at most %d.", c.Name, len(c.Tags), SDMaxTags)
	}
	n := &state.SDNamespace{ID: c.ID, ARN: c.ARN, Name: c.Name, Type: c.NamespaceType, Description: c.Description,
		HTTPName: c.HTTPName, CreatorRequestID: c.CreatorRequestID, SOATTL: c.SOATTL, CreatedAt: c.Now, Tags: sdTagsFromWire(c.Tags)}
	if n.HTTPName == "" {
		n.HTTPName = n.Name
	}
	if n.Type != "HTTP" {
		// A stable pseudo hosted-zone ID derived from the namespace ID.
		n.HostedZoneID = "Z" + strings.ToUpper(strings.TrimPrefix(n.ID, "ns-"))
	}
	if tx.SDNamespace(n.ID) != nil || tx.SDNamespaceByARN(n.ARN) != nil {
		return nil, apierr.Newf(SDDuplicateRequest, "A namespace with ID %s already exists.", n.ID)
	}
	if err := tx.PutSDNamespace(n); err != nil {
		return nil, err
	}
	return recordSDOperation(tx, c.Meta, c.SDOp, "CREATE_NAMESPACE", map[string]string{"NAMESPACE": n.ID}, "", "")
}

func vpcOr(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

func applyUpdateSDNamespace(m *Machine, tx *state.Txn, c *wire.UpdateSDNamespace) (any, error) {
	old := tx.SDNamespace(c.ID)
	if old == nil {
		return nil, ErrSDNamespaceNotFound(c.ID)
	}
	n := *old
	if c.Description != nil {
		n.Description = *c.Description
	}
	if c.SOATTL != nil {
		v := *c.SOATTL
		n.SOATTL = &v
	}
	if err := tx.PutSDNamespace(&n); err != nil {
		return nil, err
	}
	return recordSDOperation(tx, c.Meta, c.SDOp, "UPDATE_NAMESPACE", map[string]string{"NAMESPACE": n.ID}, "", "")
}

func applyDeleteSDNamespace(m *Machine, tx *state.Txn, c *wire.DeleteSDNamespace) (any, error) {
	old := tx.SDNamespace(c.ID)
	if old == nil {
		return nil, ErrSDNamespaceNotFound(c.ID)
	}
	inUse := false
	tx.SDNamespaceServices(old.ID, func(*state.SDService) bool { inUse = true; return false })
	if inUse {
		return nil, apierr.Newf(SDResourceInUse, "Namespace %s contains services and can't be deleted.", old.ID)
	}
	if err := tx.DeleteSDNamespace(old); err != nil {
		return nil, err
	}
	return recordSDOperation(tx, c.Meta, c.SDOp, "DELETE_NAMESPACE", map[string]string{"NAMESPACE": old.ID}, "", "")
}

func applyCreateSDService(m *Machine, tx *state.Txn, c *wire.CreateSDService) (any, error) {
	ns := tx.SDNamespace(c.NamespaceID)
	if ns == nil {
		return nil, ErrSDNamespaceNotFound(c.NamespaceID)
	}
	var same *state.SDService
	tx.SDNamespaceServices(ns.ID, func(s *state.SDService) bool {
		if s.Name == c.Name || ns.Type != "HTTP" && strings.EqualFold(s.Name, c.Name) {
			same = s
			return false
		}
		return true
	})
	if same != nil {
		if c.CreatorRequestID != "" && same.CreatorRequestID == c.CreatorRequestID {
			return same, nil
		}
		return nil, &SDConflict{Err: apierr.Newf(SDServiceAlreadyExists, "Service %s already exists in namespace %s.", c.Name, ns.ID),
			CreatorRequestID: same.CreatorRequestID, ServiceID: same.ID, ServiceARN: same.ARN}
	}
	count := 0
	tx.SDNamespaceServices(ns.ID, func(*state.SDService) bool { count++; return true })
	if count >= SDMaxServices {
		return nil, apierr.Newf(SDResourceLimitExceeded, "The limit of %d services in namespace %s has been reached.", SDMaxServices, ns.ID)
	}
	if c.DNS != nil && ns.Type == "HTTP" {
		return nil, apierr.Newf(SDInvalidInput, "DnsConfig is not supported for services in HTTP namespaces.")
	}
	if c.DNS == nil && ns.Type == "DNS_PRIVATE" && c.ServiceType != "HTTP" {
		return nil, apierr.Newf(SDInvalidInput, "DnsConfig is required for services in DNS namespaces unless Type is HTTP.")
	}
	if len(c.Tags) > SDMaxTags {
		return nil, apierr.Newf(SDTooManyTags, "The service %s would have %d tags: a resource can have at most %d.", c.Name, len(c.Tags), SDMaxTags)
	}
	s := &state.SDService{ID: c.ID, ARN: c.ARN, Name: c.Name, NamespaceID: ns.ID, Description: c.Description,
		CreatorRequestID: c.CreatorRequestID, CreatedAt: c.Now, Tags: sdTagsFromWire(c.Tags)}
	switch {
	case c.DNS != nil:
		s.Type = "DNS_HTTP"
		s.DNS = &state.SDDNSConfig{RoutingPolicy: c.DNS.RoutingPolicy}
		for _, r := range c.DNS.Records {
			s.DNS.Records = append(s.DNS.Records, state.SDDNSRecord{Type: r.Type, TTL: r.TTL})
		}
	default:
		s.Type = "HTTP"
	}
	if c.CustomHealth != nil {
		s.CustomHealth = &state.SDCustomHealth{FailureThreshold: *c.CustomHealth}
	}
	if tx.SDService(s.ID) != nil || tx.SDServiceByARN(s.ARN) != nil {
		return nil, apierr.Newf(SDDuplicateRequest, "A service with ID %s already exists.", s.ID)
	}
	if err := tx.PutSDService(s); err != nil {
		return nil, err
	}
	return s, nil
}

func applyUpdateSDService(m *Machine, tx *state.Txn, c *wire.UpdateSDService) (any, error) {
	old := tx.SDService(c.ID)
	if old == nil {
		return nil, ErrSDServiceNotFound(c.ID)
	}
	s := *old
	if c.Description != nil {
		s.Description = *c.Description
	}
	if len(c.Records) > 0 {
		if s.DNS == nil {
			return nil, apierr.Newf(SDInvalidInput, "Service %s has no DnsConfig to update.", s.ID)
		}
		if len(c.Records) != len(s.DNS.Records) {
			return nil, apierr.Newf(SDInvalidInput, "DnsRecords must keep the types of the service's records: you can change only their TTL.")
		}
		recs := make([]state.SDDNSRecord, len(c.Records))
		for i, r := range c.Records {
			if !slices.ContainsFunc(s.DNS.Records, func(o state.SDDNSRecord) bool { return o.Type == r.Type }) {
				return nil, apierr.Newf(SDInvalidInput, "DnsRecords must keep the types of the service's records: you can change only their TTL.")
			}
			recs[i] = state.SDDNSRecord{Type: r.Type, TTL: r.TTL}
		}
		s.DNS = &state.SDDNSConfig{RoutingPolicy: s.DNS.RoutingPolicy, Records: recs}
	}
	if err := tx.PutSDService(&s); err != nil {
		return nil, err
	}
	return recordSDOperation(tx, c.Meta, c.SDOp, "UPDATE_SERVICE", map[string]string{"SERVICE": s.ID}, "", "")
}

func applyDeleteSDService(m *Machine, tx *state.Txn, c *wire.DeleteSDService) (any, error) {
	old := tx.SDService(c.ID)
	if old == nil {
		return nil, ErrSDServiceNotFound(c.ID)
	}
	inUse := false
	tx.SDInstances(old.ID, "", func(*state.SDInstance) bool { inUse = true; return false })
	if inUse {
		return nil, apierr.Newf(SDResourceInUse, "Service %s contains registered instances; deregister them before deleting the service.", old.ID)
	}
	return nil, tx.DeleteSDService(old)
}

func applyUpdateSDServiceAttributes(m *Machine, tx *state.Txn, c *wire.UpdateSDServiceAttributes) (any, error) {
	old := tx.SDService(c.ID)
	if old == nil {
		return nil, ErrSDServiceNotFound(c.ID)
	}
	s := *old
	s.Attributes = maps.Clone(old.Attributes)
	if s.Attributes == nil {
		s.Attributes = map[string]string{}
	}
	maps.Copy(s.Attributes, c.Attributes)
	if len(s.Attributes) > SDMaxServiceAttributes {
		return nil, apierr.Newf(SDAttributesLimitExceeded, "Service %s would have %d attributes: a service can have at most %d.", s.ID, len(s.Attributes), SDMaxServiceAttributes)
	}
	return nil, tx.PutSDService(&s)
}

func applyDeleteSDServiceAttributes(m *Machine, tx *state.Txn, c *wire.DeleteSDServiceAttributes) (any, error) {
	old := tx.SDService(c.ID)
	if old == nil {
		return nil, ErrSDServiceNotFound(c.ID)
	}
	s := *old
	s.Attributes = maps.Clone(old.Attributes)
	for _, k := range c.Keys {
		delete(s.Attributes, k)
	}
	if len(s.Attributes) == 0 {
		s.Attributes = nil
	}
	return nil, tx.PutSDService(&s)
}

func bumpSDRevision(tx *state.Txn, s *state.SDService) error {
	n := *s
	n.Revision++
	return tx.PutSDService(&n)
}

func applyRegisterSDInstance(m *Machine, tx *state.Txn, c *wire.RegisterSDInstance) (any, error) {
	s := tx.SDService(c.ServiceID)
	if s == nil {
		return nil, ErrSDServiceNotFound(c.ServiceID)
	}
	old := tx.SDInstance(s.ID, c.ID)
	if old == nil {
		count := 0
		tx.SDInstances(s.ID, "", func(*state.SDInstance) bool { count++; return true })
		if count >= SDMaxInstances {
			return nil, apierr.Newf(SDResourceLimitExceeded, "The limit of %d instances in service %s has been reached.", SDMaxInstances, s.ID)
		}
	}
	in := &state.SDInstance{ServiceID: s.ID, ID: c.ID, Attributes: maps.Clone(c.Attributes), CreatorRequestID: c.CreatorRequestID,
		TaskARN: c.TaskARN, ECSServiceARN: c.ECSServiceARN, CreatedAt: c.Now, UpdatedAt: c.Now}
	if old != nil {
		in.CreatedAt = old.CreatedAt
	}
	if s.CustomHealth != nil {
		in.CustomHealth = "HEALTHY"
		if c.Attributes["AWS_INIT_HEALTH_STATUS"] == "UNHEALTHY" {
			in.CustomHealth = "UNHEALTHY"
		}
	}
	if err := tx.PutSDInstance(in); err != nil {
		return nil, err
	}
	if err := bumpSDRevision(tx, s); err != nil {
		return nil, err
	}
	return recordSDOperation(tx, c.Meta, c.SDOp, "REGISTER_INSTANCE", map[string]string{"INSTANCE": in.ID, "SERVICE": s.ID}, "", "")
}

func applyDeregisterSDInstance(m *Machine, tx *state.Txn, c *wire.DeregisterSDInstance) (any, error) {
	s := tx.SDService(c.ServiceID)
	if s == nil {
		return nil, ErrSDServiceNotFound(c.ServiceID)
	}
	old := tx.SDInstance(s.ID, c.ID)
	if old == nil {
		return nil, ErrSDInstanceNotFound(s.ID, c.ID)
	}
	if err := tx.DeleteSDInstance(old); err != nil {
		return nil, err
	}
	if err := bumpSDRevision(tx, s); err != nil {
		return nil, err
	}
	return recordSDOperation(tx, c.Meta, c.SDOp, "DEREGISTER_INSTANCE", map[string]string{"INSTANCE": old.ID, "SERVICE": s.ID}, "", "")
}

func applyUpdateSDInstanceHealth(m *Machine, tx *state.Txn, c *wire.UpdateSDInstanceHealth) (any, error) {
	s := tx.SDService(c.ServiceID)
	if s == nil {
		return nil, ErrSDServiceNotFound(c.ServiceID)
	}
	old := tx.SDInstance(s.ID, c.ID)
	if old == nil {
		return nil, ErrSDInstanceNotFound(s.ID, c.ID)
	}
	if s.CustomHealth == nil {
		return nil, apierr.Newf(SDCustomHealthNotFound, "Service %s does not have a custom health check.", s.ID)
	}
	if c.Status != "HEALTHY" && c.Status != "UNHEALTHY" {
		return nil, apierr.Newf(SDInvalidInput, "Status must be HEALTHY or UNHEALTHY.")
	}
	if old.CustomHealth == c.Status {
		return nil, nil
	}
	in := *old
	in.CustomHealth = c.Status
	in.UpdatedAt = c.Now
	return nil, tx.PutSDInstance(&in)
}

func applyTagSDResource(m *Machine, tx *state.Txn, c *wire.TagSDResource) (any, error) {
	if n := tx.SDNamespaceByARN(c.ARN); n != nil {
		tags, err := mergeSDTags(c.ARN, n.Tags, c.Tags)
		if err != nil {
			return nil, err
		}
		cp := *n
		cp.Tags = tags
		return nil, tx.PutSDNamespace(&cp)
	}
	if s := tx.SDServiceByARN(c.ARN); s != nil {
		tags, err := mergeSDTags(c.ARN, s.Tags, c.Tags)
		if err != nil {
			return nil, err
		}
		cp := *s
		cp.Tags = tags
		return nil, tx.PutSDService(&cp)
	}
	return nil, apierr.Newf(SDResourceNotFound, "Resource not found: %s", c.ARN)
}

func applyUntagSDResource(m *Machine, tx *state.Txn, c *wire.UntagSDResource) (any, error) {
	drop := func(in []state.SDTag) []state.SDTag {
		var out []state.SDTag
		for _, t := range in {
			if !slices.Contains(c.Keys, t.Key) {
				out = append(out, t)
			}
		}
		return out
	}
	if n := tx.SDNamespaceByARN(c.ARN); n != nil {
		cp := *n
		cp.Tags = drop(n.Tags)
		return nil, tx.PutSDNamespace(&cp)
	}
	if s := tx.SDServiceByARN(c.ARN); s != nil {
		cp := *s
		cp.Tags = drop(s.Tags)
		return nil, tx.PutSDService(&cp)
	}
	return nil, apierr.Newf(SDResourceNotFound, "Resource not found: %s", c.ARN)
}

// Snapshot conversions.

func sdNamespaceToWire(n *state.SDNamespace) wire.SDNamespaceRecord {
	return wire.SDNamespaceRecord{ID: n.ID, ARN: n.ARN, Name: n.Name, Type: n.Type, Description: n.Description, HTTPName: n.HTTPName,
		HostedZoneID: n.HostedZoneID, CreatorRequestID: n.CreatorRequestID, SOATTL: n.SOATTL, CreatedAt: n.CreatedAt, Tags: sdTagsToWire(n.Tags)}
}

func sdNamespaceFromWire(r wire.SDNamespaceRecord) *state.SDNamespace {
	return &state.SDNamespace{ID: r.ID, ARN: r.ARN, Name: r.Name, Type: r.Type, Description: r.Description, HTTPName: r.HTTPName,
		HostedZoneID: r.HostedZoneID, CreatorRequestID: r.CreatorRequestID, SOATTL: r.SOATTL, CreatedAt: r.CreatedAt, Tags: sdTagsFromWire(r.Tags)}
}

func sdServiceToWire(s *state.SDService) wire.SDServiceRecord {
	out := wire.SDServiceRecord{ID: s.ID, ARN: s.ARN, Name: s.Name, NamespaceID: s.NamespaceID, Description: s.Description, Type: s.Type,
		CreatorRequestID: s.CreatorRequestID, Attributes: s.Attributes, Revision: s.Revision, CreatedAt: s.CreatedAt, Tags: sdTagsToWire(s.Tags)}
	if s.DNS != nil {
		out.DNS = &wire.SDDNSConfig{RoutingPolicy: s.DNS.RoutingPolicy, Records: []wire.SDDNSRecord{}}
		for _, r := range s.DNS.Records {
			out.DNS.Records = append(out.DNS.Records, wire.SDDNSRecord{Type: r.Type, TTL: r.TTL})
		}
	}
	if s.HealthCheck != nil {
		out.HealthCheck = &wire.SDHealthCheck{Type: s.HealthCheck.Type, ResourcePath: s.HealthCheck.ResourcePath, FailureThreshold: s.HealthCheck.FailureThreshold}
	}
	if s.CustomHealth != nil {
		v := s.CustomHealth.FailureThreshold
		out.CustomHealth = &v
	}
	return out
}

func sdServiceFromWire(r wire.SDServiceRecord) *state.SDService {
	out := &state.SDService{ID: r.ID, ARN: r.ARN, Name: r.Name, NamespaceID: r.NamespaceID, Description: r.Description, Type: r.Type,
		CreatorRequestID: r.CreatorRequestID, Attributes: r.Attributes, Revision: r.Revision, CreatedAt: r.CreatedAt, Tags: sdTagsFromWire(r.Tags)}
	if r.DNS != nil {
		out.DNS = &state.SDDNSConfig{RoutingPolicy: r.DNS.RoutingPolicy}
		for _, x := range r.DNS.Records {
			out.DNS.Records = append(out.DNS.Records, state.SDDNSRecord{Type: x.Type, TTL: x.TTL})
		}
	}
	if r.HealthCheck != nil {
		out.HealthCheck = &state.SDHealthCheck{Type: r.HealthCheck.Type, ResourcePath: r.HealthCheck.ResourcePath, FailureThreshold: r.HealthCheck.FailureThreshold}
	}
	if r.CustomHealth != nil {
		out.CustomHealth = &state.SDCustomHealth{FailureThreshold: *r.CustomHealth}
	}
	return out
}

func sdRecordFromWire(rec wire.SnapshotRecord) (string, any, error) {
	switch rec.Table {
	case wire.TableSDNamespaces:
		var r wire.SDNamespaceRecord
		err := decodeRecord(rec, &r)
		return state.TableSDNamespaces, sdNamespaceFromWire(r), err
	case wire.TableSDServices:
		var r wire.SDServiceRecord
		err := decodeRecord(rec, &r)
		return state.TableSDServices, sdServiceFromWire(r), err
	case wire.TableSDInstances:
		var r wire.SDInstanceRecord
		err := decodeRecord(rec, &r)
		out := state.SDInstance(r)
		return state.TableSDInstances, &out, err
	}
	var r wire.SDOperationRecord
	err := decodeRecord(rec, &r)
	out := state.SDOperation(r)
	return state.TableSDOperations, &out, err
}
