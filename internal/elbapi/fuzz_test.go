package elbapi

import (
	"net/url"
	"testing"

	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/elb"
	"berth.dev/berth/internal/elbshape"
)

// FuzzCreateRuleDecode: any CreateRule form decodes, converts and
// validates without panicking, and what validates converts back.
func FuzzCreateRuleDecode(f *testing.F) {
	f.Add("Priority=1&Conditions.member.1.Field=path-pattern&Conditions.member.1.Values.member.1=/a/*&Actions.member.1.Type=forward&Actions.member.1.TargetGroupArn=x")
	f.Add("Conditions.member.1.Field=http-header&Conditions.member.1.HttpHeaderConfig.HttpHeaderName=X&Conditions.member.1.HttpHeaderConfig.Values.member.1=a&Actions.member.1.Type=redirect&Actions.member.1.RedirectConfig.StatusCode=HTTP_301&Actions.member.1.RedirectConfig.Host=h")
	f.Add("Actions.member.1.Type=forward&Actions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn=a&Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight=3&Actions.member.1.Order=2")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		var in elbshape.CreateRuleRequest
		if awsproto.DecodeQuery(form, &in) != nil {
			return
		}
		conds, err := conditionsIn(in.Conditions)
		if err == nil {
			if n, err := elb.NormalizeConditions(conds); err == nil {
				for _, c := range n {
					conditionOut(c)
				}
			}
		}
		acts, err := actionsIn(in.Actions)
		if err != nil {
			return
		}
		if n, err := elb.NormalizeActions(acts, elb.ActionContext{LBType: elb.TypeApplication, Protocol: elb.ProtocolHTTP}); err == nil {
			actionsOut(n)
		}
	})
}
