package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth.dev/berth/internal/elb"
	"berth.dev/berth/internal/shape"
)

// manifestLB is a manifest's loadBalancer: the load balancer, listener,
// optional rule and target group `berth deploy` finds or creates before
// the service, and the container the target group sends traffic to.
type manifestLB struct {
	Name          string               `json:"name"`
	Type          string               `json:"type"`
	Scheme        string               `json:"scheme"`
	Subnets       []string             `json:"subnets"`
	Listener      *manifestListener    `json:"listener"`
	Rule          *manifestRule        `json:"rule"`
	TargetGroup   *manifestTargetGroup `json:"targetGroup"`
	ContainerName string               `json:"containerName"`
	ContainerPort *int32               `json:"containerPort"`

	// Filled by checkLoadBalancer: the target type (from the task
	// definition's network mode) and the health check as the target group
	// is to have it.
	targetType  string
	healthCheck elb.HealthCheck
}

type manifestListener struct {
	Port           *int32 `json:"port"`
	Protocol       string `json:"protocol"`
	CertificateArn string `json:"certificateArn"`
}

type manifestRule struct {
	Priority     *int32   `json:"priority"`
	PathPatterns []string `json:"pathPatterns"`
	HostHeaders  []string `json:"hostHeaders"`
}

type manifestTargetGroup struct {
	Name                       string               `json:"name"`
	Port                       *int32               `json:"port"`
	Protocol                   string               `json:"protocol"`
	HealthCheck                *manifestHealthCheck `json:"healthCheck"`
	DeregistrationDelaySeconds *int32               `json:"deregistrationDelaySeconds"`
}

type manifestHealthCheck struct {
	Protocol           string  `json:"protocol"`
	Port               *string `json:"port"`
	Path               *string `json:"path"`
	IntervalSeconds    *int    `json:"intervalSeconds"`
	TimeoutSeconds     *int    `json:"timeoutSeconds"`
	HealthyThreshold   *int    `json:"healthyThreshold"`
	UnhealthyThreshold *int    `json:"unhealthyThreshold"`
	Matcher            *string `json:"matcher"`
}

// defaultSubnets are the subnets a load balancer berth deploy creates
// names when the manifest names none (berth has no VPC; an ALB needs two).
var defaultSubnets = []string{"subnet-berth-a", "subnet-berth-b"}

// elbMessage is an elb validation error's message without its code.
func elbMessage(err error) string {
	var e *elb.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// checkLoadBalancer fills the defaults of m.LoadBalancer and refuses, before
// any API call, what the ELBv2 API or ECS would refuse. Its errors name
// members as written in the file.
func checkLoadBalancer(m *manifest) error {
	lb := m.LoadBalancer
	td := m.TaskDefinition
	const p = "loadBalancer."
	if lb.Name == "" {
		return fmt.Errorf("%sname is required", p)
	}
	if err := elb.ValidateLoadBalancerName(lb.Name); err != nil {
		return fmt.Errorf("%sname: %s", p, elbMessage(err))
	}
	switch lb.Type {
	case "":
		lb.Type = elb.TypeApplication
	case elb.TypeApplication, elb.TypeNetwork:
	default:
		return fmt.Errorf("%stype: %q is not application or network", p, lb.Type)
	}
	alb := lb.Type == elb.TypeApplication
	switch lb.Scheme {
	case "", "internet-facing", "internal":
	default:
		return fmt.Errorf("%sscheme: %q is not internet-facing or internal", p, lb.Scheme)
	}
	if alb && len(lb.Subnets) == 1 {
		return fmt.Errorf("%ssubnets: an application load balancer needs at least two", p)
	}
	if len(lb.Subnets) == 0 {
		lb.Subnets = defaultSubnets
	}

	// The listener.
	l := lb.Listener
	if l == nil {
		return fmt.Errorf("%slistener is required", p)
	}
	if l.Port == nil {
		return fmt.Errorf("%slistener.port is required", p)
	}
	if *l.Port < 1 || *l.Port > 65535 {
		return fmt.Errorf("%slistener.port: %d is not between 1 and 65535", p, *l.Port)
	}
	secure := ""
	if alb {
		if l.Protocol == "" {
			l.Protocol = elb.ProtocolHTTP
		}
		if l.Protocol != elb.ProtocolHTTP && l.Protocol != elb.ProtocolHTTPS {
			return fmt.Errorf("%slistener.protocol: %q is not HTTP or HTTPS (an application load balancer's protocols)", p, l.Protocol)
		}
		secure = elb.ProtocolHTTPS
	} else {
		if l.Protocol == "" {
			l.Protocol = elb.ProtocolTCP
		}
		if l.Protocol != elb.ProtocolTCP && l.Protocol != elb.ProtocolTLS {
			return fmt.Errorf("%slistener.protocol: %q is not TCP or TLS (a network load balancer's protocols)", p, l.Protocol)
		}
		secure = elb.ProtocolTLS
	}
	switch {
	case l.Protocol == secure && l.CertificateArn == "":
		return fmt.Errorf("%slistener.certificateArn is required for a %s listener", p, l.Protocol)
	case l.Protocol != secure && l.CertificateArn != "":
		return fmt.Errorf("%slistener.certificateArn: a %s listener takes no certificate (use %s)", p, l.Protocol, secure)
	}

	// The rule.
	if r := lb.Rule; r != nil {
		if !alb {
			return fmt.Errorf("%srule: a network load balancer's listeners have no rules", p)
		}
		if r.Priority == nil {
			return fmt.Errorf("%srule.priority is required", p)
		}
		if err := elb.ValidatePriority(int(*r.Priority)); err != nil {
			return fmt.Errorf("%srule.priority: %s", p, elbMessage(err))
		}
		if len(r.PathPatterns) == 0 && len(r.HostHeaders) == 0 {
			return fmt.Errorf("%srule: pathPatterns or hostHeaders is required", p)
		}
		if n := len(r.PathPatterns) + len(r.HostHeaders); n > 5 {
			return fmt.Errorf("%srule: %d condition values; a rule has at most 5", p, n)
		}
		for i, v := range r.PathPatterns {
			if v == "" || len(v) > 128 {
				return fmt.Errorf("%srule.pathPatterns[%d]: must be 1 to 128 characters", p, i)
			}
		}
		for i, v := range r.HostHeaders {
			if v == "" || len(v) > 128 {
				return fmt.Errorf("%srule.hostHeaders[%d]: must be 1 to 128 characters", p, i)
			}
		}
	}

	// The container and port: the only container, or the first with a
	// port mapping; its first port mapping.
	var cont *shape.ContainerDefinition
	if lb.ContainerName == "" {
		if len(td.ContainerDefinitions) == 1 {
			cont = &td.ContainerDefinitions[0]
		} else {
			for i := range td.ContainerDefinitions {
				if len(containerPorts(&td.ContainerDefinitions[i])) > 0 {
					cont = &td.ContainerDefinitions[i]
					break
				}
			}
		}
		if cont == nil {
			return fmt.Errorf("%scontainerName is required: no container of taskDefinition has a port mapping", p)
		}
		lb.ContainerName = aws.ToString(cont.Name)
	} else {
		for i := range td.ContainerDefinitions {
			if aws.ToString(td.ContainerDefinitions[i].Name) == lb.ContainerName {
				cont = &td.ContainerDefinitions[i]
			}
		}
		if cont == nil {
			return fmt.Errorf("%scontainerName: taskDefinition has no container %s", p, lb.ContainerName)
		}
	}
	ports := containerPorts(cont)
	if lb.ContainerPort == nil {
		if len(ports) == 0 {
			return fmt.Errorf("%scontainerPort: container %s has no port mapping", p, lb.ContainerName)
		}
		lb.ContainerPort = aws.Int32(ports[0])
	} else if !slices.Contains(ports, *lb.ContainerPort) {
		return fmt.Errorf("%scontainerPort: container %s maps no containerPort %d", p, lb.ContainerName, *lb.ContainerPort)
	}
	lb.targetType = elb.TargetTypeInstance
	if td.NetworkMode == shape.NetworkModeAwsvpc {
		lb.targetType = elb.TargetTypeIP
	}

	// The target group.
	if lb.TargetGroup == nil {
		lb.TargetGroup = &manifestTargetGroup{}
	}
	tg := lb.TargetGroup
	if tg.Name == "" {
		tg.Name = m.Service
		if err := elb.ValidateTargetGroupName(tg.Name); err != nil {
			return fmt.Errorf("%stargetGroup.name: the default, the service name: %s", p, elbMessage(err))
		}
	} else if err := elb.ValidateTargetGroupName(tg.Name); err != nil {
		return fmt.Errorf("%stargetGroup.name: %s", p, elbMessage(err))
	}
	if tg.Port == nil {
		tg.Port = aws.Int32(*lb.ContainerPort)
	} else if *tg.Port < 1 || *tg.Port > 65535 {
		return fmt.Errorf("%stargetGroup.port: %d is not between 1 and 65535", p, *tg.Port)
	}
	if tg.Protocol == "" {
		tg.Protocol = map[bool]string{true: elb.ProtocolHTTP, false: elb.ProtocolTCP}[alb]
	}
	switch {
	case alb && tg.Protocol != elb.ProtocolHTTP && tg.Protocol != elb.ProtocolHTTPS:
		return fmt.Errorf("%stargetGroup.protocol: %q is not HTTP or HTTPS (the protocols of an application load balancer's target groups)", p, tg.Protocol)
	case !alb && tg.Protocol != elb.ProtocolTCP && tg.Protocol != elb.ProtocolTLS:
		return fmt.Errorf("%stargetGroup.protocol: %q is not TCP or TLS (the protocols of a network load balancer's target groups)", p, tg.Protocol)
	}
	if d := tg.DeregistrationDelaySeconds; d != nil && (*d < 0 || *d > 3600) {
		return fmt.Errorf("%stargetGroup.deregistrationDelaySeconds: %d is not between 0 and 3600", p, *d)
	}
	hc := elb.DefaultHealthCheck(tg.Protocol, "")
	if h := tg.HealthCheck; h != nil {
		in := elb.HealthCheckInput{Protocol: h.Protocol, Port: h.Port, Path: h.Path, IntervalSeconds: h.IntervalSeconds,
			TimeoutSeconds: h.TimeoutSeconds, HealthyThreshold: h.HealthyThreshold, UnhealthyThreshold: h.UnhealthyThreshold}
		if h.Matcher != nil {
			in.Matcher = &elb.Matcher{HttpCode: *h.Matcher}
		}
		var err error
		if hc, err = elb.ApplyHealthCheck(hc, in, tg.Protocol, ""); err != nil {
			return fmt.Errorf("%stargetGroup.healthCheck: %s", p, elbMessage(err))
		}
	}
	lb.healthCheck = hc
	return nil
}

// containerPorts are the container ports a container maps, in order.
func containerPorts(c *shape.ContainerDefinition) []int32 {
	var ports []int32
	for _, pm := range c.PortMappings {
		if pm.ContainerPort != nil {
			ports = append(ports, *pm.ContainerPort)
		}
	}
	return ports
}

// lbSetup is what applyLoadBalancer set up: the service's loadBalancers
// and how to reach the load balancer.
type lbSetup struct {
	serviceLBs []ecstypes.LoadBalancer
	name, dns  string
	address    string
	curl       string
}

// applyLoadBalancer finds or creates the manifest's load balancer, target
// group, listener and rule, changing what differs from the manifest where
// that is safe and refusing where it is not. It prints what it did.
func applyLoadBalancer(ctx context.Context, c *elbv2.Client, w io.Writer, lb *manifestLB) (*lbSetup, error) {
	// The load balancer.
	var lbRec elbtypes.LoadBalancer
	d, err := c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{lb.Name}})
	var nf *elbtypes.LoadBalancerNotFoundException
	switch {
	case errors.As(err, &nf) || (err == nil && len(d.LoadBalancers) == 0):
		in := &elbv2.CreateLoadBalancerInput{Name: aws.String(lb.Name), Type: elbtypes.LoadBalancerTypeEnum(lb.Type), Subnets: lb.Subnets}
		if lb.Scheme != "" {
			in.Scheme = elbtypes.LoadBalancerSchemeEnum(lb.Scheme)
		}
		out, err := c.CreateLoadBalancer(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("create load balancer %s: %w", lb.Name, err)
		}
		lbRec = out.LoadBalancers[0]
		fmt.Fprintf(w, "load balancer %s: created (%s, %s)\n", lb.Name, lbRec.Type, lbRec.Scheme)
	case err != nil:
		return nil, err
	default:
		lbRec = d.LoadBalancers[0]
		if string(lbRec.Type) != lb.Type {
			return nil, fmt.Errorf("load balancer %s exists and is of type %s, not %s as the manifest says", lb.Name, lbRec.Type, lb.Type)
		}
		if lb.Scheme != "" && string(lbRec.Scheme) != lb.Scheme {
			return nil, fmt.Errorf("load balancer %s exists with scheme %s, not %s as the manifest says", lb.Name, lbRec.Scheme, lb.Scheme)
		}
		fmt.Fprintf(w, "load balancer %s: exists (%s, %s)\n", lb.Name, lbRec.Type, lbRec.Scheme)
	}
	lbArn := aws.ToString(lbRec.LoadBalancerArn)

	// The target group.
	tg := lb.TargetGroup
	var tgRec elbtypes.TargetGroup
	tgs, err := c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{tg.Name}})
	var tgnf *elbtypes.TargetGroupNotFoundException
	switch {
	case errors.As(err, &tgnf) || (err == nil && len(tgs.TargetGroups) == 0):
		in := &elbv2.CreateTargetGroupInput{Name: aws.String(tg.Name), Protocol: elbtypes.ProtocolEnum(tg.Protocol), Port: tg.Port,
			VpcId: aws.String("vpc-berth"), TargetType: elbtypes.TargetTypeEnum(lb.targetType)}
		setHealthCheck(lb.healthCheck, &in.HealthCheckProtocol, &in.HealthCheckPort, &in.HealthCheckPath, &in.HealthCheckIntervalSeconds,
			&in.HealthCheckTimeoutSeconds, &in.HealthyThresholdCount, &in.UnhealthyThresholdCount, &in.Matcher)
		out, err := c.CreateTargetGroup(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("create target group %s: %w", tg.Name, err)
		}
		tgRec = out.TargetGroups[0]
		fmt.Fprintf(w, "target group %s: created (%s %s:%d)\n", tg.Name, lb.targetType, tg.Protocol, *tg.Port)
	case err != nil:
		return nil, err
	default:
		tgRec = tgs.TargetGroups[0]
		switch {
		case string(tgRec.TargetType) != lb.targetType:
			return nil, fmt.Errorf("target group %s exists with target type %s; the task definition's network mode needs %s (delete the target group or name another)",
				tg.Name, tgRec.TargetType, lb.targetType)
		case aws.ToInt32(tgRec.Port) != *tg.Port:
			return nil, fmt.Errorf("target group %s exists with port %d, not %d as the manifest says (delete the target group or name another)",
				tg.Name, aws.ToInt32(tgRec.Port), *tg.Port)
		case string(tgRec.Protocol) != tg.Protocol:
			return nil, fmt.Errorf("target group %s exists with protocol %s, not %s as the manifest says (delete the target group or name another)",
				tg.Name, tgRec.Protocol, tg.Protocol)
		}
		for _, other := range tgRec.LoadBalancerArns {
			if other != lbArn {
				return nil, fmt.Errorf("target group %s serves load balancer %s; a target group serves one load balancer", tg.Name, shortLBArn(other))
			}
		}
		if healthCheckOf(tgRec) != healthCheckKey(lb.healthCheck) {
			in := &elbv2.ModifyTargetGroupInput{TargetGroupArn: tgRec.TargetGroupArn}
			setHealthCheck(lb.healthCheck, &in.HealthCheckProtocol, &in.HealthCheckPort, &in.HealthCheckPath, &in.HealthCheckIntervalSeconds,
				&in.HealthCheckTimeoutSeconds, &in.HealthyThresholdCount, &in.UnhealthyThresholdCount, &in.Matcher)
			if _, err := c.ModifyTargetGroup(ctx, in); err != nil {
				return nil, fmt.Errorf("modify target group %s: %w", tg.Name, err)
			}
			fmt.Fprintf(w, "target group %s: exists, health check modified\n", tg.Name)
		} else {
			fmt.Fprintf(w, "target group %s: exists (%s %s:%d)\n", tg.Name, tgRec.TargetType, tgRec.Protocol, aws.ToInt32(tgRec.Port))
		}
	}
	tgArn := aws.ToString(tgRec.TargetGroupArn)
	if d := tg.DeregistrationDelaySeconds; d != nil {
		const key = "deregistration_delay.timeout_seconds"
		want := strconv.Itoa(int(*d))
		attrs, err := c.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(tgArn)})
		if err != nil {
			return nil, err
		}
		cur := ""
		for _, a := range attrs.Attributes {
			if aws.ToString(a.Key) == key {
				cur = aws.ToString(a.Value)
			}
		}
		if cur != want {
			_, err := c.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tgArn),
				Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String(key), Value: aws.String(want)}}})
			if err != nil {
				return nil, fmt.Errorf("set the deregistration delay of target group %s: %w", tg.Name, err)
			}
			fmt.Fprintf(w, "target group %s: deregistration delay %ss\n", tg.Name, want)
		}
	}

	// The listener.
	l := lb.Listener
	var lis *elbtypes.Listener
	for p := elbv2.NewDescribeListenersPaginator(c, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lbArn)}); p.HasMorePages() && lis == nil; {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for i := range page.Listeners {
			if aws.ToInt32(page.Listeners[i].Port) == *l.Port {
				lis = &page.Listeners[i]
				break
			}
		}
	}
	forward := []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgArn)}}
	listenerName := fmt.Sprintf("listener %s:%d", l.Protocol, *l.Port)
	if lis == nil {
		in := &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbArn), Port: l.Port, Protocol: elbtypes.ProtocolEnum(l.Protocol)}
		if l.CertificateArn != "" {
			in.Certificates = []elbtypes.Certificate{{CertificateArn: aws.String(l.CertificateArn)}}
		}
		what := "forward to " + tg.Name
		if lb.Rule == nil {
			in.DefaultActions = forward
		} else {
			// Requests no rule matches get a 404.
			in.DefaultActions = []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{
				StatusCode: aws.String("404"), ContentType: aws.String("text/plain"), MessageBody: aws.String("no rule matches\n")}}}
			what = "fixed-response 404"
		}
		out, err := c.CreateListener(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", listenerName, err)
		}
		lis = &out.Listeners[0]
		fmt.Fprintf(w, "%s: created (default action: %s)\n", listenerName, what)
	} else {
		if string(lis.Protocol) != l.Protocol {
			return nil, fmt.Errorf("load balancer %s has a %s listener on port %d, not %s as the manifest says", lb.Name, lis.Protocol, *l.Port, l.Protocol)
		}
		if lb.Rule == nil && !forwardsOnlyTo(lis.DefaultActions, tgArn) {
			return nil, fmt.Errorf("%s of load balancer %s forwards elsewhere (%s), not to target group %s; give the manifest a rule, or change or delete the listener",
				listenerName, lb.Name, actionsText(lis.DefaultActions, nil), tg.Name)
		}
		if l.CertificateArn != "" && (len(lis.Certificates) == 0 || aws.ToString(lis.Certificates[0].CertificateArn) != l.CertificateArn) {
			_, err := c.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: lis.ListenerArn,
				Certificates: []elbtypes.Certificate{{CertificateArn: aws.String(l.CertificateArn)}}})
			if err != nil {
				return nil, fmt.Errorf("modify %s: %w", listenerName, err)
			}
			fmt.Fprintf(w, "%s: exists, certificate modified\n", listenerName)
		} else {
			fmt.Fprintf(w, "%s: exists\n", listenerName)
		}
	}

	// The rule, by priority.
	if r := lb.Rule; r != nil {
		prio := strconv.Itoa(int(*r.Priority))
		conds := ruleConditions(r)
		rules, err := c.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: lis.ListenerArn})
		if err != nil {
			return nil, err
		}
		var cur *elbtypes.Rule
		for i := range rules.Rules {
			if aws.ToString(rules.Rules[i].Priority) == prio {
				cur = &rules.Rules[i]
			}
		}
		switch {
		case cur == nil:
			if _, err := c.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: lis.ListenerArn, Priority: r.Priority, Conditions: conds, Actions: forward}); err != nil {
				return nil, fmt.Errorf("create rule %s: %w", prio, err)
			}
			fmt.Fprintf(w, "rule %s: created (%s -> %s)\n", prio, conditionsText(conds), tg.Name)
		case !sameConditions(cur.Conditions, conds) || !forwardsOnlyTo(cur.Actions, tgArn):
			if _, err := c.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: cur.RuleArn, Conditions: conds, Actions: forward}); err != nil {
				return nil, fmt.Errorf("modify rule %s: %w", prio, err)
			}
			fmt.Fprintf(w, "rule %s: modified (%s -> %s)\n", prio, conditionsText(conds), tg.Name)
		default:
			fmt.Fprintf(w, "rule %s: exists (%s -> %s)\n", prio, conditionsText(conds), tg.Name)
		}
	}

	// The address, from a fresh describe (a new load balancer has it too).
	d, err = c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbArn}})
	if err != nil {
		return nil, err
	}
	if len(d.LoadBalancers) == 1 {
		lbRec = d.LoadBalancers[0]
	}
	s := &lbSetup{name: lb.Name, dns: aws.ToString(lbRec.DNSName), serviceLBs: []ecstypes.LoadBalancer{{
		TargetGroupArn: aws.String(tgArn), ContainerName: aws.String(lb.ContainerName), ContainerPort: lb.ContainerPort}}}
	for _, az := range lbRec.AvailabilityZones {
		for _, a := range az.LoadBalancerAddresses {
			if s.address == "" && aws.ToString(a.IpAddress) != "" {
				s.address = aws.ToString(a.IpAddress)
			}
		}
	}
	s.curl = curlLine(lb, s.address)
	return s, nil
}

// curlLine is a curl command that reaches the service through the load
// balancer: the rule's first host header (without wildcards) and the
// literal start of its first path pattern.
func curlLine(lb *manifestLB, address string) string {
	if address == "" {
		return ""
	}
	scheme, insecure := "http", ""
	if lb.Listener.Protocol == elb.ProtocolHTTPS || lb.Listener.Protocol == elb.ProtocolTLS {
		scheme, insecure = "https", "-k "
	}
	host, path := "", "/"
	if r := lb.Rule; r != nil {
		if len(r.HostHeaders) > 0 && !strings.ContainsAny(r.HostHeaders[0], "*?") {
			host = "-H 'Host: " + r.HostHeaders[0] + "' "
		}
		if len(r.PathPatterns) > 0 {
			path = r.PathPatterns[0]
			if i := strings.IndexAny(path, "*?"); i >= 0 {
				path = path[:i]
			}
			if !strings.HasPrefix(path, "/") {
				path = "/" + path
			}
		}
	}
	hostport := address
	if p := *lb.Listener.Port; !(scheme == "http" && p == 80) && !(scheme == "https" && p == 443) {
		hostport += ":" + strconv.Itoa(int(p))
	}
	return fmt.Sprintf("curl %s%s%s://%s%s", insecure, host, scheme, hostport, path)
}

// ruleConditions are a rule's conditions as the manifest gives them.
func ruleConditions(r *manifestRule) []elbtypes.RuleCondition {
	var cs []elbtypes.RuleCondition
	if len(r.PathPatterns) > 0 {
		cs = append(cs, elbtypes.RuleCondition{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: r.PathPatterns}})
	}
	if len(r.HostHeaders) > 0 {
		cs = append(cs, elbtypes.RuleCondition{Field: aws.String("host-header"), HostHeaderConfig: &elbtypes.HostHeaderConditionConfig{Values: r.HostHeaders}})
	}
	return cs
}

// conditionKey is a set of conditions in a form to compare: field and
// sorted values per condition, sorted.
func conditionKey(cs []elbtypes.RuleCondition) string {
	var parts []string
	for _, c := range cs {
		vals := c.Values
		switch {
		case c.PathPatternConfig != nil:
			vals = c.PathPatternConfig.Values
		case c.HostHeaderConfig != nil:
			vals = c.HostHeaderConfig.Values
		case c.HttpRequestMethodConfig != nil, c.SourceIpConfig != nil, c.HttpHeaderConfig != nil, c.QueryStringConfig != nil:
			// Conditions the manifest cannot express: never equal.
			return "other"
		}
		vals = slices.Clone(vals)
		slices.Sort(vals)
		parts = append(parts, aws.ToString(c.Field)+"="+strings.Join(vals, "\x00"))
	}
	slices.Sort(parts)
	return strings.Join(parts, "\x01")
}

func sameConditions(a, b []elbtypes.RuleCondition) bool { return conditionKey(a) == conditionKey(b) }

// forwardsOnlyTo reports whether actions are one forward to target group
// arn alone.
func forwardsOnlyTo(actions []elbtypes.Action, arn string) bool {
	if len(actions) != 1 || actions[0].Type != elbtypes.ActionTypeEnumForward {
		return false
	}
	a := actions[0]
	if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
		return len(a.ForwardConfig.TargetGroups) == 1 && aws.ToString(a.ForwardConfig.TargetGroups[0].TargetGroupArn) == arn
	}
	return aws.ToString(a.TargetGroupArn) == arn
}

// setHealthCheck fills the health-check members of a CreateTargetGroup or
// ModifyTargetGroup input from hc.
func setHealthCheck(hc elb.HealthCheck, protocol *elbtypes.ProtocolEnum, port, path **string, interval, timeout, healthy, unhealthy **int32, matcher **elbtypes.Matcher) {
	*protocol = elbtypes.ProtocolEnum(hc.Protocol)
	*port = aws.String(hc.Port)
	if hc.Path != "" {
		*path = aws.String(hc.Path)
	}
	*interval = aws.Int32(int32(hc.IntervalSeconds))
	*timeout = aws.Int32(int32(hc.TimeoutSeconds))
	*healthy = aws.Int32(int32(hc.HealthyThreshold))
	*unhealthy = aws.Int32(int32(hc.UnhealthyThreshold))
	if hc.Matcher != nil && hc.Matcher.HttpCode != "" {
		*matcher = &elbtypes.Matcher{HttpCode: aws.String(hc.Matcher.HttpCode)}
	}
}

// healthCheckKey and healthCheckOf put the manifest's health check and a
// target group's in one form to compare.
func healthCheckKey(hc elb.HealthCheck) string {
	m := ""
	if hc.Matcher != nil {
		m = hc.Matcher.HttpCode
	}
	return fmt.Sprintf("%s|%s|%s|%d|%d|%d|%d|%s", hc.Protocol, hc.Port, hc.Path, hc.IntervalSeconds, hc.TimeoutSeconds, hc.HealthyThreshold, hc.UnhealthyThreshold, m)
}

func healthCheckOf(tg elbtypes.TargetGroup) string {
	m := ""
	if tg.Matcher != nil {
		m = aws.ToString(tg.Matcher.HttpCode)
	}
	return fmt.Sprintf("%s|%s|%s|%d|%d|%d|%d|%s", tg.HealthCheckProtocol, aws.ToString(tg.HealthCheckPort), aws.ToString(tg.HealthCheckPath),
		aws.ToInt32(tg.HealthCheckIntervalSeconds), aws.ToInt32(tg.HealthCheckTimeoutSeconds), aws.ToInt32(tg.HealthyThresholdCount),
		aws.ToInt32(tg.UnhealthyThresholdCount), m)
}

// shortLBArn is a load balancer ARN's name.
func shortLBArn(arn string) string {
	parts := strings.Split(arn, "/")
	if len(parts) >= 3 {
		return parts[len(parts)-2]
	}
	return arn
}

// sameServiceLBs reports whether a service's loadBalancers are want.
func sameServiceLBs(have, want []ecstypes.LoadBalancer) bool {
	key := func(lbs []ecstypes.LoadBalancer) []string {
		var ks []string
		for _, l := range lbs {
			ks = append(ks, fmt.Sprintf("%s|%s|%s|%d", aws.ToString(l.TargetGroupArn), aws.ToString(l.LoadBalancerName), aws.ToString(l.ContainerName), aws.ToInt32(l.ContainerPort)))
		}
		slices.Sort(ks)
		return ks
	}
	return slices.Equal(key(have), key(want))
}

// shortTGArn is the target group name of a service load balancer.
func shortTGArn(l ecstypes.LoadBalancer) string {
	arn := aws.ToString(l.TargetGroupArn)
	if i := strings.Index(arn, ":targetgroup/"); i >= 0 {
		return strings.SplitN(arn[i+len(":targetgroup/"):], "/", 2)[0]
	}
	return arn
}
