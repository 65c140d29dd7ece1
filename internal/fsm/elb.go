package fsm

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"berth.dev/berth/internal/elb"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// ErrAddressTaken: CreateLoadBalancer's address was taken by another load
// balancer between the proposer's snapshot and the commit; the proposer
// picks another on a fresh snapshot and proposes again.
var ErrAddressTaken = errors.New("the load balancer address is no longer free")

// ELBNamer returns the ELBv2 namer of the machine's partition, region and account.
func (m *Machine) ELBNamer() elb.Namer {
	return elb.Namer{Partition: m.namer.Partition, Region: m.namer.Region, Account: m.namer.Account}
}

// FindInstanceByEC2ID returns the ACTIVE container instance whose
// ec2InstanceId is id, in any cluster, or nil.
func FindInstanceByEC2ID(s *state.Snapshot, id string) *state.ContainerInstance {
	var found *state.ContainerInstance
	s.AllInstances(func(ci *state.ContainerInstance) bool {
		if deref(ci.Shape.Ec2InstanceId) == id && deref(ci.Shape.Status) == "ACTIVE" {
			found = ci
			return false
		}
		return true
	})
	return found
}

func applyCreateLoadBalancer(m *Machine, tx *state.Txn, c *wire.CreateLoadBalancer) (any, error) {
	if old := tx.LoadBalancerByName(c.Name); old != nil {
		if old.Type == c.LBType && old.Scheme == c.Scheme && old.IPAddressType == c.IPAddressType &&
			slices.Equal(old.Subnets, c.Subnets) && slices.Equal(old.SecurityGroups, nilIfEmpty(c.SecurityGroups)) {
			return old, nil
		}
		return nil, elb.DuplicateLoadBalancerName(c.Name)
	}
	if !elb.ValidID(c.ID) {
		return nil, elb.Validationf("invalid load balancer ID %q", c.ID)
	}
	count, taken := 0, false
	tx.LoadBalancers(func(lb *state.LoadBalancer) bool {
		if lb.Type == c.LBType {
			count++
		}
		taken = taken || lb.Address == c.Address
		return true
	})
	if count >= elb.MaxApplicationLoadBalancers {
		return nil, elb.TooMany(elb.CodeTooManyLoadBalancers, "load balancers of type '"+c.LBType+"'", elb.MaxApplicationLoadBalancers)
	}
	if taken || c.Address == "" {
		return nil, ErrAddressTaken
	}
	n := m.ELBNamer()
	lb := &state.LoadBalancer{
		ARN: n.LoadBalancer(c.LBType, c.Name, c.ID), ID: c.ID, Name: c.Name, Type: c.LBType, Scheme: c.Scheme,
		IPAddressType: c.IPAddressType, Subnets: c.Subnets, SecurityGroups: nilIfEmpty(c.SecurityGroups),
		Address: c.Address, DNSName: n.DNSName(c.LBType, c.Scheme, c.Name, c.ID), CreatedAt: c.Now,
		State: elb.StateProvisioning, Tags: nilIfEmpty(c.Tags),
	}
	return lb, tx.Put(state.TableLoadBalancers, lb)
}

func applyDeleteLoadBalancer(m *Machine, tx *state.Txn, c *wire.DeleteLoadBalancer) (any, error) {
	lb := tx.LoadBalancer(c.ARN)
	if lb == nil {
		return nil, nil
	}
	if elb.LoadBalancerAttribute(lb.Type, lb.Attributes, "deletion_protection.enabled") == "true" {
		return nil, elb.Errorf(elb.CodeOperationNotPermitted, "Load balancer '%s' cannot be deleted because deletion protection is enabled", lb.ARN)
	}
	var listeners []*state.Listener
	tx.Listeners(lb.ARN, func(l *state.Listener) bool { listeners = append(listeners, l); return true })
	for _, l := range listeners {
		if err := deleteListener(tx, l); err != nil {
			return nil, err
		}
	}
	return nil, tx.Delete(state.TableLoadBalancers, lb)
}

func deleteListener(tx *state.Txn, l *state.Listener) error {
	var rules []*state.Rule
	tx.Rules(l.ARN, func(r *state.Rule) bool { rules = append(rules, r); return true })
	for _, r := range rules {
		if err := tx.Delete(state.TableRules, r); err != nil {
			return err
		}
	}
	return tx.Delete(state.TableListeners, l)
}

func loadBalancer(tx *state.Txn, arn string) (*state.LoadBalancer, error) {
	lb := tx.LoadBalancer(arn)
	if lb == nil {
		return nil, elb.LoadBalancerNotFound(arn)
	}
	return lb, nil
}

func applyModifyLoadBalancer(m *Machine, tx *state.Txn, c *wire.ModifyLoadBalancer) (any, error) {
	old, err := loadBalancer(tx, c.ARN)
	if err != nil {
		return nil, err
	}
	lb := *old
	if len(c.Attributes) > 0 {
		attrs := make([]elb.Attribute, 0, len(c.Attributes))
		for _, k := range sortedKeys(c.Attributes) {
			attrs = append(attrs, elb.Attribute{Key: k, Value: c.Attributes[k]})
		}
		if err := elb.ValidateLoadBalancerAttributes(lb.Type, attrs); err != nil {
			return nil, err
		}
		lb.Attributes = elb.Merge(lb.Attributes, attrs)
	}
	if c.Subnets != nil {
		if err := elb.ValidateSubnets(lb.Type, c.Subnets); err != nil {
			return nil, err
		}
		lb.Subnets = c.Subnets
	}
	if c.SecurityGroups != nil {
		if err := elb.ValidateSecurityGroups(lb.Type, *c.SecurityGroups); err != nil {
			return nil, err
		}
		lb.SecurityGroups = nilIfEmpty(*c.SecurityGroups)
	}
	if c.IPAddressType != "" {
		if c.IPAddressType != elb.IPAddressTypeIPv4 {
			return nil, elb.InvalidConfigf("IP address type '%s' is not supported by berth: its load balancers have IPv4 addresses only", c.IPAddressType)
		}
		lb.IPAddressType = c.IPAddressType
	}
	return &lb, tx.Put(state.TableLoadBalancers, &lb)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func applyLoadBalancerActive(m *Machine, tx *state.Txn, c *wire.LoadBalancerActive) (any, error) {
	old, err := loadBalancer(tx, c.ARN)
	if err != nil {
		return nil, err
	}
	if old.State == elb.StateActive {
		return old, nil
	}
	lb := *old
	lb.State = elb.StateActive
	return &lb, tx.Put(state.TableLoadBalancers, &lb)
}

func applyCreateTargetGroup(m *Machine, tx *state.Txn, c *wire.CreateTargetGroup) (any, error) {
	if old := tx.TargetGroupByName(c.Name); old != nil {
		if old.Protocol == c.Protocol && old.Port == c.Port && old.VpcID == c.VpcID && old.TargetType == c.TargetType &&
			old.ProtocolVersion == c.ProtocolVersion && sameHealthCheck(old.HealthCheck, c.HealthCheck) {
			return old, nil
		}
		return nil, elb.DuplicateTargetGroupName(c.Name)
	}
	if !elb.ValidID(c.ID) {
		return nil, elb.Validationf("invalid target group ID %q", c.ID)
	}
	count := 0
	tx.TargetGroups(func(*state.TargetGroup) bool { count++; return true })
	if count >= elb.MaxTargetGroups {
		return nil, elb.TooMany(elb.CodeTooManyTargetGroups, "target groups", elb.MaxTargetGroups)
	}
	tg := &state.TargetGroup{
		ARN: m.ELBNamer().TargetGroup(c.Name, c.ID), ID: c.ID, Name: c.Name, Protocol: c.Protocol,
		ProtocolVersion: c.ProtocolVersion, Port: c.Port, VpcID: c.VpcID, TargetType: c.TargetType,
		IPAddressType: c.IPAddressType, HealthCheck: c.HealthCheck, Tags: nilIfEmpty(c.Tags), CreatedAt: c.Now,
	}
	return tg, tx.Put(state.TableTargetGroups, tg)
}

func sameHealthCheck(a, b elb.HealthCheck) bool {
	ma, mb := a.Matcher, b.Matcher
	a.Matcher, b.Matcher = nil, nil
	if a != b {
		return false
	}
	if ma == nil || mb == nil {
		return ma == mb
	}
	return *ma == *mb
}

func targetGroup(tx *state.Txn, arn string) (*state.TargetGroup, error) {
	tg := tx.TargetGroup(arn)
	if tg == nil {
		return nil, elb.TargetGroupNotFound(arn)
	}
	return tg, nil
}

func applyModifyTargetGroup(m *Machine, tx *state.Txn, c *wire.ModifyTargetGroup) (any, error) {
	old, err := targetGroup(tx, c.ARN)
	if err != nil {
		return nil, err
	}
	tg := *old
	if c.HealthCheck != nil {
		tg.HealthCheck = *c.HealthCheck
	}
	if len(c.Attributes) > 0 {
		attrs := make([]elb.Attribute, 0, len(c.Attributes))
		for _, k := range sortedKeys(c.Attributes) {
			attrs = append(attrs, elb.Attribute{Key: k, Value: c.Attributes[k]})
		}
		merged := elb.Merge(tg.Attributes, attrs)
		if err := elb.ValidateTargetGroupAttributes(tg.Protocol, tg.TargetType, attrs, merged); err != nil {
			return nil, err
		}
		tg.Attributes = merged
	}
	return &tg, tx.Put(state.TableTargetGroups, &tg)
}

func applyDeleteTargetGroup(m *Machine, tx *state.Txn, c *wire.DeleteTargetGroup) (any, error) {
	tg := tx.TargetGroup(c.ARN)
	if tg == nil {
		return nil, nil
	}
	if len(tx.TargetGroupLoadBalancers(tg.ARN)) > 0 {
		return nil, elb.TargetGroupInUse(tg.ARN)
	}
	var targets []*state.Target
	tx.Targets(tg.ARN, func(t *state.Target) bool { targets = append(targets, t); return true })
	for _, t := range targets {
		if err := tx.Delete(state.TableTargets, t); err != nil {
			return nil, err
		}
	}
	return nil, tx.Delete(state.TableTargetGroups, tg)
}

// purgeDrained deletes the registrations of tg whose deregistration delay
// ended by now, and returns how many registrations are left.
func purgeDrained(tx *state.Txn, tgARN string, now time.Time) (int, error) {
	var gone []*state.Target
	left := 0
	tx.Targets(tgARN, func(t *state.Target) bool {
		if !t.DrainUntil.IsZero() && !now.Before(t.DrainUntil) {
			gone = append(gone, t)
		} else {
			left++
		}
		return true
	})
	for _, t := range gone {
		if err := tx.Delete(state.TableTargets, t); err != nil {
			return 0, err
		}
	}
	return left, nil
}

func applyRegisterTargets(m *Machine, tx *state.Txn, c *wire.RegisterTargets) (any, error) {
	tg, err := targetGroup(tx, c.ARN)
	if err != nil {
		return nil, err
	}
	left, err := purgeDrained(tx, tg.ARN, c.Now)
	if err != nil {
		return nil, err
	}
	for _, t := range c.Targets {
		if t.Port < 1 || t.Port > 65535 {
			return nil, elb.Validationf("Port '%d' must be between 1 and 65535", t.Port)
		}
		switch tg.TargetType {
		case elb.TargetTypeIP:
			if err := elb.ValidateIPTarget(t.ID); err != nil {
				return nil, err
			}
		case elb.TargetTypeInstance:
			if FindInstanceByEC2ID(&tx.Snapshot, t.ID) == nil {
				return nil, elb.Errorf(elb.CodeInvalidTarget, "The following targets are not in a running state and cannot be registered: '%s'", t.ID)
			}
		}
		old := tx.Target(tg.ARN, t.ID, t.Port)
		if old != nil && old.DrainUntil.IsZero() {
			continue
		}
		if old == nil {
			left++
			if left > elb.MaxTargetsPerTargetGroup {
				return nil, elb.TooMany(elb.CodeTooManyTargets, "targets per target group", elb.MaxTargetsPerTargetGroup)
			}
		}
		rec := &state.Target{TargetGroupARN: tg.ARN, ID: t.ID, Port: t.Port, AvailabilityZone: t.AvailabilityZone, RegisteredAt: c.Now}
		if err := tx.Put(state.TableTargets, rec); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// DeregistrationDelay is a target group's deregistration_delay.timeout_seconds.
func DeregistrationDelay(tg *state.TargetGroup) time.Duration {
	s, _ := strconv.Atoi(elb.TargetGroupAttribute(tg.Protocol, tg.TargetType, tg.Attributes, "deregistration_delay.timeout_seconds"))
	return time.Duration(s) * time.Second
}

func applyDeregisterTargets(m *Machine, tx *state.Txn, c *wire.DeregisterTargets) (any, error) {
	tg, err := targetGroup(tx, c.ARN)
	if err != nil {
		return nil, err
	}
	if _, err := purgeDrained(tx, tg.ARN, c.Now); err != nil {
		return nil, err
	}
	delay := DeregistrationDelay(tg)
	for _, t := range c.Targets {
		var hits []*state.Target
		tx.Targets(tg.ARN, func(r *state.Target) bool {
			if r.ID == t.ID && (t.Port == 0 || r.Port == t.Port) && r.DrainUntil.IsZero() {
				hits = append(hits, r)
			}
			return true
		})
		for _, r := range hits {
			if delay == 0 {
				if err := tx.Delete(state.TableTargets, r); err != nil {
					return nil, err
				}
				continue
			}
			d := *r
			d.DrainUntil = c.Now.Add(delay)
			if err := tx.Put(state.TableTargets, &d); err != nil {
				return nil, err
			}
		}
	}
	return nil, nil
}

// checkActions normalises actions for a listener of lb and checks the
// target groups they forward to: they exist, their protocol suits the
// load balancer, and no other load balancer uses them.
func checkActions(tx *state.Txn, lb *state.LoadBalancer, protocol string, actions []elb.Action) ([]elb.Action, error) {
	out, err := elb.NormalizeActions(actions, elb.ActionContext{LBType: lb.Type, Protocol: protocol})
	if err != nil {
		return nil, err
	}
	for _, a := range out {
		for _, arn := range a.TargetGroups() {
			tg := tx.TargetGroup(arn)
			if tg == nil {
				return nil, elb.TargetGroupNotFound(arn)
			}
			if err := elb.CompatibleTargetGroup(lb.Type, protocol, tg.Protocol, arn); err != nil {
				return nil, err
			}
			for _, other := range tx.TargetGroupLoadBalancers(arn) {
				if other != lb.ARN {
					return nil, elb.Errorf(elb.CodeTargetGroupAssociationLimit, "The following target groups cannot be associated with more than one load balancer: %s", arn)
				}
			}
		}
	}
	return out, nil
}

func applyCreateListener(m *Machine, tx *state.Txn, c *wire.CreateListener) (any, error) {
	lb, err := loadBalancer(tx, c.LoadBalancerARN)
	if err != nil {
		return nil, err
	}
	policy, err := elb.ValidateListener(elb.ListenerInput{LBType: lb.Type, Protocol: c.Protocol, Port: c.Port,
		SSLPolicy: c.SSLPolicy, Certificates: c.Certificates, ALPNPolicy: c.ALPNPolicy})
	if err != nil {
		return nil, err
	}
	actions, err := checkActions(tx, lb, c.Protocol, c.DefaultActions)
	if err != nil {
		return nil, err
	}
	var onPort *state.Listener
	count := 0
	tx.Listeners(lb.ARN, func(l *state.Listener) bool {
		count++
		if l.Port == c.Port {
			onPort = l
		}
		return true
	})
	if onPort != nil {
		if onPort.Protocol == c.Protocol && onPort.SSLPolicy == policy && slices.Equal(onPort.Certificates, nilIfEmpty(c.Certificates)) {
			if def := defaultRule(tx, onPort.ARN); def != nil && sameActions(def.Actions, actions) {
				return onPort, nil
			}
		}
		return nil, elb.DuplicateListener(c.Port)
	}
	if count >= elb.MaxListenersPerLoadBalancer {
		return nil, elb.TooMany(elb.CodeTooManyListeners, "listeners per load balancer", elb.MaxListenersPerLoadBalancer)
	}
	if !elb.ValidID(c.ID) || !elb.ValidID(c.RuleID) {
		return nil, elb.Validationf("invalid listener or rule ID %q %q", c.ID, c.RuleID)
	}
	n := m.ELBNamer()
	l := &state.Listener{ARN: n.Listener(lb.ARN, c.ID), ID: c.ID, LoadBalancerARN: lb.ARN, Port: c.Port, Protocol: c.Protocol,
		SSLPolicy: policy, Certificates: nilIfEmpty(c.Certificates), ALPNPolicy: nilIfEmpty(c.ALPNPolicy), Tags: nilIfEmpty(c.Tags)}
	r := &state.Rule{ARN: n.Rule(l.ARN, c.RuleID), ID: c.RuleID, ListenerARN: l.ARN, IsDefault: true, Actions: actions}
	if err := tx.Put(state.TableListeners, l); err != nil {
		return nil, err
	}
	return l, tx.Put(state.TableRules, r)
}

func sameActions(a, b []elb.Action) bool {
	return slices.EqualFunc(a, b, func(x, y elb.Action) bool { return jsonEqual(x, y) })
}

func defaultRule(tx *state.Txn, listenerARN string) *state.Rule {
	var def *state.Rule
	tx.Rules(listenerARN, func(r *state.Rule) bool {
		if r.IsDefault {
			def = r
			return false
		}
		return true
	})
	return def
}

func listener(tx *state.Txn, arn string) (*state.Listener, *state.LoadBalancer, error) {
	l := tx.Listener(arn)
	if l == nil {
		return nil, nil, elb.ListenerNotFound(arn)
	}
	lb := tx.LoadBalancer(l.LoadBalancerARN)
	if lb == nil {
		return nil, nil, elb.ListenerNotFound(arn)
	}
	return l, lb, nil
}

func applyModifyListener(m *Machine, tx *state.Txn, c *wire.ModifyListener) (any, error) {
	old, lb, err := listener(tx, c.ARN)
	if err != nil {
		return nil, err
	}
	l := *old
	if c.Port != 0 && c.Port != l.Port {
		clash := false
		tx.Listeners(lb.ARN, func(o *state.Listener) bool { clash = clash || o.Port == c.Port; return !clash })
		if clash {
			return nil, elb.DuplicateListener(c.Port)
		}
		l.Port = c.Port
	}
	protocolChanged := c.Protocol != "" && c.Protocol != l.Protocol
	if c.Protocol != "" {
		l.Protocol = c.Protocol
	}
	if c.SSLPolicy != "" {
		l.SSLPolicy = c.SSLPolicy
	}
	if c.Certificates != nil {
		sni := []string{}
		if len(l.Certificates) > 1 {
			sni = l.Certificates[1:]
		}
		l.Certificates = append(append([]string{}, c.Certificates...), sni...)
	}
	if protocolChanged && !elb.IsSecure(l.Protocol) {
		l.Certificates, l.SSLPolicy, l.ALPNPolicy = nil, "", nil
	}
	if c.ALPNPolicy != nil {
		l.ALPNPolicy = c.ALPNPolicy
	}
	defCerts := l.Certificates
	if len(defCerts) > 1 {
		defCerts = defCerts[:1]
	}
	policy, err := elb.ValidateListener(elb.ListenerInput{LBType: lb.Type, Protocol: l.Protocol, Port: l.Port,
		SSLPolicy: l.SSLPolicy, Certificates: defCerts, ALPNPolicy: l.ALPNPolicy})
	if err != nil {
		return nil, err
	}
	l.SSLPolicy = policy
	for _, cert := range c.AddCertificates {
		if !slices.Contains(l.Certificates, cert) {
			if len(l.Certificates) == 0 {
				return nil, elb.Validationf("Certificates can only be added to HTTPS and TLS listeners")
			}
			l.Certificates = append(l.Certificates, cert)
		}
	}
	if len(l.Certificates) > elb.MaxCertificatesPerALB {
		return nil, elb.TooMany(elb.CodeTooManyCertificates, "certificates per listener", elb.MaxCertificatesPerALB)
	}
	for _, cert := range c.RemoveCertificates {
		if i := slices.Index(l.Certificates, cert); i > 0 {
			l.Certificates = slices.Delete(slices.Clone(l.Certificates), i, i+1)
		} else if i == 0 {
			return nil, elb.Errorf(elb.CodeOperationNotPermitted, "The default certificate cannot be removed from a listener")
		}
	}
	if len(c.Attributes) > 0 {
		attrs := make([]elb.Attribute, 0, len(c.Attributes))
		for _, k := range sortedKeys(c.Attributes) {
			attrs = append(attrs, elb.Attribute{Key: k, Value: c.Attributes[k]})
		}
		if err := elb.ValidateListenerAttributes(lb.Type, l.Protocol, attrs); err != nil {
			return nil, err
		}
		l.Attributes = elb.Merge(l.Attributes, attrs)
	}
	def := defaultRule(tx, l.ARN)
	if c.DefaultActions != nil || protocolChanged {
		actions := def.Actions
		if c.DefaultActions != nil {
			actions = c.DefaultActions
		}
		checked, err := checkActions(tx, lb, l.Protocol, actions)
		if err != nil {
			return nil, err
		}
		d := *def
		d.Actions = checked
		if err := tx.Put(state.TableRules, &d); err != nil {
			return nil, err
		}
	}
	return &l, tx.Put(state.TableListeners, &l)
}

func applyDeleteListener(m *Machine, tx *state.Txn, c *wire.DeleteListener) (any, error) {
	l, _, err := listener(tx, c.ARN)
	if err != nil {
		return nil, err
	}
	return nil, deleteListener(tx, l)
}

// rulesOf counts the non-default rules of every listener of a load balancer.
func rulesOf(tx *state.Txn, lbARN string) int {
	n := 0
	tx.Listeners(lbARN, func(l *state.Listener) bool {
		tx.Rules(l.ARN, func(r *state.Rule) bool {
			if !r.IsDefault {
				n++
			}
			return true
		})
		return true
	})
	return n
}

func applyCreateRule(m *Machine, tx *state.Txn, c *wire.CreateRule) (any, error) {
	l, lb, err := listener(tx, c.ListenerARN)
	if err != nil {
		return nil, err
	}
	if lb.Type == elb.TypeNetwork {
		return nil, elb.InvalidConfigf("Rules are not supported for listeners of load balancers with type 'network'")
	}
	if err := elb.ValidatePriority(c.Priority); err != nil {
		return nil, err
	}
	conditions, err := elb.NormalizeConditions(c.Conditions)
	if err != nil {
		return nil, err
	}
	if len(conditions) == 0 {
		return nil, elb.Validationf("At least one condition must be specified")
	}
	actions, err := checkActions(tx, lb, l.Protocol, c.Actions)
	if err != nil {
		return nil, err
	}
	inUse := false
	tx.Rules(l.ARN, func(r *state.Rule) bool { inUse = !r.IsDefault && r.Priority == c.Priority; return !inUse })
	if inUse {
		return nil, elb.PriorityInUse(c.Priority)
	}
	if rulesOf(tx, lb.ARN) >= elb.MaxRulesPerALB {
		return nil, elb.TooMany(elb.CodeTooManyRules, "rules per load balancer", elb.MaxRulesPerALB)
	}
	if !elb.ValidID(c.ID) {
		return nil, elb.Validationf("invalid rule ID %q", c.ID)
	}
	r := &state.Rule{ARN: m.ELBNamer().Rule(l.ARN, c.ID), ID: c.ID, ListenerARN: l.ARN, Priority: c.Priority,
		Conditions: conditions, Actions: actions, Tags: nilIfEmpty(c.Tags)}
	return r, tx.Put(state.TableRules, r)
}

func rule(tx *state.Txn, arn string) (*state.Rule, *state.Listener, *state.LoadBalancer, error) {
	r := tx.Rule(arn)
	if r == nil {
		return nil, nil, nil, elb.RuleNotFound(arn)
	}
	l, lb, err := listener(tx, r.ListenerARN)
	if err != nil {
		return nil, nil, nil, elb.RuleNotFound(arn)
	}
	return r, l, lb, nil
}

func applyModifyRule(m *Machine, tx *state.Txn, c *wire.ModifyRule) (any, error) {
	old, l, lb, err := rule(tx, c.ARN)
	if err != nil {
		return nil, err
	}
	r := *old
	if c.Conditions != nil {
		if r.IsDefault {
			return nil, elb.Errorf(elb.CodeOperationNotPermitted, "Conditions cannot be set on a default rule")
		}
		conditions, err := elb.NormalizeConditions(c.Conditions)
		if err != nil {
			return nil, err
		}
		if len(conditions) == 0 {
			return nil, elb.Validationf("At least one condition must be specified")
		}
		r.Conditions = conditions
	}
	if c.Actions != nil {
		actions, err := checkActions(tx, lb, l.Protocol, c.Actions)
		if err != nil {
			return nil, err
		}
		r.Actions = actions
	}
	return &r, tx.Put(state.TableRules, &r)
}

func applySetRulePriorities(m *Machine, tx *state.Txn, c *wire.SetRulePriorities) (any, error) {
	if len(c.Priorities) == 0 {
		return nil, elb.Validationf("At least one rule priority must be specified")
	}
	changed := map[string]int{}
	listeners := map[string]bool{}
	var order []string
	for _, p := range c.Priorities {
		r := tx.Rule(p.ARN)
		if r == nil {
			return nil, elb.RuleNotFound(p.ARN)
		}
		if r.IsDefault {
			return nil, elb.Errorf(elb.CodeOperationNotPermitted, "The priority of a default rule cannot be changed")
		}
		if err := elb.ValidatePriority(p.Priority); err != nil {
			return nil, err
		}
		if _, dup := changed[p.ARN]; dup {
			return nil, elb.Validationf("Rule '%s' is specified more than once", p.ARN)
		}
		changed[p.ARN] = p.Priority
		listeners[r.ListenerARN] = true
		order = append(order, p.ARN)
	}
	for la := range listeners {
		seen := map[int]bool{}
		var clash error
		tx.Rules(la, func(r *state.Rule) bool {
			if r.IsDefault {
				return true
			}
			p := r.Priority
			if np, ok := changed[r.ARN]; ok {
				p = np
			}
			if seen[p] {
				clash = elb.PriorityInUse(p)
				return false
			}
			seen[p] = true
			return true
		})
		if clash != nil {
			return nil, clash
		}
	}
	out := make([]*state.Rule, 0, len(order))
	for _, a := range order {
		r := *tx.Rule(a)
		r.Priority = changed[a]
		if err := tx.Put(state.TableRules, &r); err != nil {
			return nil, err
		}
		out = append(out, &r)
	}
	return out, nil
}

func applyDeleteRule(m *Machine, tx *state.Txn, c *wire.DeleteRule) (any, error) {
	r, _, _, err := rule(tx, c.ARN)
	if err != nil {
		return nil, err
	}
	if r.IsDefault {
		return nil, elb.Errorf(elb.CodeOperationNotPermitted, "A default rule cannot be deleted")
	}
	return nil, tx.Delete(state.TableRules, r)
}

// elbTags reads and writes the tags of any ELB resource.
func elbTags(tx *state.Txn, arn string) ([]elb.Tag, func([]elb.Tag) error, error) {
	switch elb.ARNKind(arn) {
	case "loadbalancer":
		if lb := tx.LoadBalancer(arn); lb != nil {
			return lb.Tags, func(t []elb.Tag) error { c := *lb; c.Tags = nilIfEmpty(t); return tx.Put(state.TableLoadBalancers, &c) }, nil
		}
		return nil, nil, elb.LoadBalancerNotFound(arn)
	case "targetgroup":
		if tg := tx.TargetGroup(arn); tg != nil {
			return tg.Tags, func(t []elb.Tag) error { c := *tg; c.Tags = nilIfEmpty(t); return tx.Put(state.TableTargetGroups, &c) }, nil
		}
		return nil, nil, elb.TargetGroupNotFound(arn)
	case "listener":
		if l := tx.Listener(arn); l != nil {
			return l.Tags, func(t []elb.Tag) error { c := *l; c.Tags = nilIfEmpty(t); return tx.Put(state.TableListeners, &c) }, nil
		}
		return nil, nil, elb.ListenerNotFound(arn)
	case "listener-rule":
		if r := tx.Rule(arn); r != nil {
			return r.Tags, func(t []elb.Tag) error { c := *r; c.Tags = nilIfEmpty(t); return tx.Put(state.TableRules, &c) }, nil
		}
		return nil, nil, elb.RuleNotFound(arn)
	}
	return nil, nil, elb.Validationf("'%s' is not a valid load balancer, target group, listener or rule ARN", arn)
}

func applyAddELBTags(m *Machine, tx *state.Txn, c *wire.AddELBTags) (any, error) {
	for _, arn := range c.ARNs {
		existing, put, err := elbTags(tx, arn)
		if err != nil {
			return nil, err
		}
		if err := elb.ValidateTags(c.Tags, existing); err != nil {
			return nil, err
		}
		if err := put(elb.MergeTags(existing, c.Tags)); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func applyRemoveELBTags(m *Machine, tx *state.Txn, c *wire.RemoveELBTags) (any, error) {
	for _, arn := range c.ARNs {
		existing, put, err := elbTags(tx, arn)
		if err != nil {
			return nil, err
		}
		if err := put(elb.RemoveTags(existing, c.Keys)); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
