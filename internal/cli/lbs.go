package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/spf13/cobra"

	"berth.dev/berth/internal/sdkhttp"
)

// newELBClient builds an aws-sdk-go-v2 ELBv2 client for the berth endpoint.
func newELBClient(ctx context.Context, env *Env, f *clientFlags) (*elb.Client, error) {
	cfg, endpoint, err := sdkConfig(ctx, env, f)
	if err != nil {
		return nil, err
	}
	return elb.NewFromConfig(cfg, func(o *elb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = sdkhttp.New()
	}), nil
}

// lbView is one load balancer with its listeners and the health of the
// targets its listeners forward to (the json output).
type lbView struct {
	LoadBalancer elbtypes.LoadBalancer `json:"loadBalancer"`
	Listeners    []listenerView        `json:"listeners"`
	TargetGroups []targetGroupView     `json:"targetGroups"`
}

type listenerView struct {
	Listener elbtypes.Listener `json:"listener"`
	Rules    []elbtypes.Rule   `json:"rules"`
}

type targetGroupView struct {
	TargetGroup elbtypes.TargetGroup               `json:"targetGroup"`
	Targets     []elbtypes.TargetHealthDescription `json:"targets"`
}

func newLBsCmd(env *Env, f *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "lbs [NAME...]",
		Short: "List load balancers with their listeners, rules and target health",
		Long: `lbs lists the load balancers of berth's ELBv2 API (all of them, or those
named) with their address, their listeners' rules in the order they are
evaluated, and the health of their target groups' targets. Connect to a
listener at the load balancer's address: berth's DNS names do not resolve.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := newELBClient(ctx, env, f)
			if err != nil {
				return err
			}
			views, err := describeLBs(ctx, c, args)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return encodeLBViews(env.Stdout, views)
			}
			return printLBs(env, views)
		},
	}
}

func describeLBs(ctx context.Context, c *elb.Client, names []string) ([]lbView, error) {
	in := &elb.DescribeLoadBalancersInput{}
	if len(names) > 0 {
		in.Names = names
	}
	var lbs []elbtypes.LoadBalancer
	for p := elb.NewDescribeLoadBalancersPaginator(c, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		lbs = append(lbs, page.LoadBalancers...)
	}
	views := make([]lbView, 0, len(lbs))
	for _, lb := range lbs {
		v := lbView{LoadBalancer: lb, Listeners: []listenerView{}, TargetGroups: []targetGroupView{}}
		for p := elb.NewDescribeListenersPaginator(c, &elb.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn}); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, l := range page.Listeners {
				rules, err := c.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: l.ListenerArn})
				if err != nil {
					return nil, err
				}
				v.Listeners = append(v.Listeners, listenerView{Listener: l, Rules: rules.Rules})
			}
		}
		for p := elb.NewDescribeTargetGroupsPaginator(c, &elb.DescribeTargetGroupsInput{LoadBalancerArn: lb.LoadBalancerArn}); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, tg := range page.TargetGroups {
				h, err := c.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
				if err != nil {
					return nil, err
				}
				v.TargetGroups = append(v.TargetGroups, targetGroupView{TargetGroup: tg, Targets: h.TargetHealthDescriptions})
			}
		}
		views = append(views, v)
	}
	return views, nil
}

// printLBs prints each load balancer (with its address, where clients
// connect: berth's DNS names do not resolve), its listeners' rules in the
// order ELB evaluates them, and the health of its target groups' targets.
func printLBs(env *Env, views []lbView) error {
	if len(views) == 0 {
		fmt.Fprintln(env.Stdout, "no load balancers")
		return nil
	}
	for i, v := range views {
		if i > 0 {
			fmt.Fprintln(env.Stdout)
		}
		lb := v.LoadBalancer
		addr := lbAddress(lb)
		state, reason := "", ""
		if lb.State != nil {
			state, reason = string(lb.State.Code), aws.ToString(lb.State.Reason)
		}
		tw := table(env.Stdout, "LOAD BALANCER", "TYPE", "SCHEME", "STATE", "ADDRESS", "DNS NAME (not resolvable)")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", aws.ToString(lb.LoadBalancerName), lb.Type, lb.Scheme, state, orDash(addr), aws.ToString(lb.DNSName))
		if err := tw.Flush(); err != nil {
			return err
		}
		if reason != "" && lb.State.Code != elbtypes.LoadBalancerStateEnumActive {
			fmt.Fprintf(env.Stdout, "  %s: %s\n", state, reason)
		}
		if len(v.Listeners) == 0 {
			fmt.Fprintln(env.Stdout, "  no listeners")
		} else {
			tw = table(env.Stdout, "  LISTENER", "RULE", "CONDITIONS", "ACTION")
			for _, l := range v.Listeners {
				listener := fmt.Sprintf("  %s %s:%d", l.Listener.Protocol, orDash(addr), aws.ToInt32(l.Listener.Port))
				for _, r := range l.Rules {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", listener, aws.ToString(r.Priority), conditionsText(r.Conditions), actionsText(r.Actions, v.TargetGroups))
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		if len(v.TargetGroups) == 0 {
			fmt.Fprintln(env.Stdout, "  no target groups")
			continue
		}
		tw = table(env.Stdout, "  TARGET GROUP", "TARGET", "PORT", "STATE", "REASON")
		for _, tg := range v.TargetGroups {
			name := "  " + aws.ToString(tg.TargetGroup.TargetGroupName)
			if len(tg.Targets) == 0 {
				fmt.Fprintf(tw, "%s\t-\t-\t-\tno targets registered\n", name)
			}
			for _, t := range tg.Targets {
				st, why := "", ""
				if t.TargetHealth != nil {
					st, why = string(t.TargetHealth.State), string(t.TargetHealth.Reason)
					if d := aws.ToString(t.TargetHealth.Description); d != "" {
						why += ": " + d
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", name, aws.ToString(t.Target.Id), aws.ToInt32(t.Target.Port), st, orDash(why))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// lbAddress is the first address DescribeLoadBalancers reports for lb.
func lbAddress(lb elbtypes.LoadBalancer) string {
	for _, az := range lb.AvailabilityZones {
		for _, a := range az.LoadBalancerAddresses {
			if a.IpAddress != nil {
				return *a.IpAddress
			}
		}
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// encodeLBViews prints views as JSON with the SDK's member names (ELB's, as
// the AWS CLI prints them) and, as the AWS CLI, without the members the
// answer did not have (nulls and empty strings).
func encodeLBViews(w io.Writer, views []lbView) error {
	b, err := json.Marshal(views)
	if err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(pruneAbsent(v))
}

// pruneAbsent drops null and empty-string members of JSON objects.
func pruneAbsent(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil || e == "" {
				delete(v, k)
				continue
			}
			v[k] = pruneAbsent(e)
		}
	case []any:
		for i, e := range v {
			v[i] = pruneAbsent(e)
		}
	}
	return v
}

func conditionsText(cs []elbtypes.RuleCondition) string {
	if len(cs) == 0 {
		return "-"
	}
	var parts []string
	for _, c := range cs {
		vals := c.Values
		switch {
		case c.PathPatternConfig != nil:
			vals = c.PathPatternConfig.Values
		case c.HostHeaderConfig != nil:
			vals = c.HostHeaderConfig.Values
		case c.HttpRequestMethodConfig != nil:
			vals = c.HttpRequestMethodConfig.Values
		case c.SourceIpConfig != nil:
			vals = c.SourceIpConfig.Values
		case c.HttpHeaderConfig != nil:
			vals = append([]string{aws.ToString(c.HttpHeaderConfig.HttpHeaderName) + ":"}, c.HttpHeaderConfig.Values...)
		case c.QueryStringConfig != nil:
			vals = nil
			for _, kv := range c.QueryStringConfig.Values {
				vals = append(vals, aws.ToString(kv.Key)+"="+aws.ToString(kv.Value))
			}
		}
		parts = append(parts, aws.ToString(c.Field)+"="+strings.Join(vals, ","))
	}
	return strings.Join(parts, " ")
}

func actionsText(as []elbtypes.Action, groups []targetGroupView) string {
	name := func(arn string) string {
		for _, g := range groups {
			if aws.ToString(g.TargetGroup.TargetGroupArn) == arn {
				return aws.ToString(g.TargetGroup.TargetGroupName)
			}
		}
		if i := strings.Index(arn, ":targetgroup/"); i >= 0 {
			return strings.SplitN(arn[i+len(":targetgroup/"):], "/", 2)[0]
		}
		return arn
	}
	var parts []string
	for _, a := range as {
		switch a.Type {
		case elbtypes.ActionTypeEnumForward:
			if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
				var tgs []string
				for _, t := range a.ForwardConfig.TargetGroups {
					if len(a.ForwardConfig.TargetGroups) == 1 {
						tgs = append(tgs, name(aws.ToString(t.TargetGroupArn)))
						continue
					}
					tgs = append(tgs, fmt.Sprintf("%s (weight %d)", name(aws.ToString(t.TargetGroupArn)), aws.ToInt32(t.Weight)))
				}
				parts = append(parts, "forward "+strings.Join(tgs, ", "))
			} else {
				parts = append(parts, "forward "+name(aws.ToString(a.TargetGroupArn)))
			}
		case elbtypes.ActionTypeEnumRedirect:
			text := "redirect"
			if r := a.RedirectConfig; r != nil {
				text += " " + string(r.StatusCode)
				for _, p := range []struct{ name, v string }{{"protocol", aws.ToString(r.Protocol)}, {"host", aws.ToString(r.Host)},
					{"port", aws.ToString(r.Port)}, {"path", aws.ToString(r.Path)}, {"query", aws.ToString(r.Query)}} {
					if p.v != "" && !strings.HasPrefix(p.v, "#{") {
						text += " " + p.name + "=" + p.v
					}
				}
			}
			parts = append(parts, text)
		case elbtypes.ActionTypeEnumFixedResponse:
			code := ""
			if a.FixedResponseConfig != nil {
				code = aws.ToString(a.FixedResponseConfig.StatusCode)
			}
			parts = append(parts, "fixed-response "+code)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, ", ")
}
