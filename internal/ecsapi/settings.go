package ecsapi

import (
	"slices"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
)

// settingValues lists the values each account setting accepts.
var settingValues = map[shape.SettingName][]string{
	shape.SettingNameServiceLongArnFormat:            {"enabled", "disabled"},
	shape.SettingNameTaskLongArnFormat:               {"enabled", "disabled"},
	shape.SettingNameContainerInstanceLongArnFormat:  {"enabled", "disabled"},
	shape.SettingNameAwsvpcTrunking:                  {"enabled", "disabled"},
	shape.SettingNameContainerInsights:               {"enabled", "disabled", "enhanced"},
	shape.SettingNameFargateFipsMode:                 {"enabled", "disabled"},
	shape.SettingNameTagResourceAuthorization:        {"on", "off"},
	shape.SettingNameFargateTaskRetirementWaitPeriod: {"0", "7", "14"},
	shape.SettingNameDefaultLogDriverMode:            {"blocking", "non-blocking"},
	shape.SettingNameFargateEventWindows:             {"enabled", "disabled"},
}

func validateSetting(name shape.SettingName, value *string) (string, error) {
	if name == "" {
		return "", apierr.InvalidParameterf("name cannot be empty.")
	}
	if err := checkEnum("name", name); err != nil {
		return "", err
	}
	if name == shape.SettingNameGuardDutyActivate {
		return "", errGuardDutyReadOnly()
	}
	v, err := required("value", value)
	if err != nil {
		return "", err
	}
	if !slices.Contains(settingValues[name], v) {
		return "", apierr.InvalidParameterf("The value %q is not valid for %s. Valid values: %v.", v, name, settingValues[name])
	}
	return v, nil
}

func errGuardDutyReadOnly() error {
	return apierr.InvalidParameterf("guardDutyActivate is read-only: it is managed by GuardDuty Runtime Monitoring.")
}

// principal resolves principalArn (default: the caller). Only IAM users,
// roles and the root user of this account have settings.
func (a *API) principal(c *call, in *string) (string, error) {
	if in == nil || *in == "" {
		return c.principal, nil
	}
	p, err := arn.Parse(*in)
	if err != nil && *in != a.cfg.Namer.Root() {
		return "", apierr.InvalidParameterf("principalArn %s is not a valid IAM user, role or root ARN.", *in)
	}
	if *in == a.cfg.Namer.Root() {
		return *in, nil
	}
	if p.Service != "iam" || p.Account != a.cfg.Namer.Account || (p.Type != "user" && p.Type != "role") {
		return "", apierr.InvalidParameterf("principalArn %s is not a valid IAM user, role or root ARN of account %s.", *in, a.cfg.Namer.Account)
	}
	return *in, nil
}

func putAccountSetting(a *API, c *call, in *shape.PutAccountSettingRequest) (any, error) {
	v, err := validateSetting(in.Name, in.Value)
	if err != nil {
		return nil, err
	}
	p, err := a.principal(c, in.PrincipalArn)
	if err != nil {
		return nil, err
	}
	// ECS: "You must use the root user when you set the Fargate wait time
	// (fargateTaskRetirementWaitPeriod)".
	if in.Name == shape.SettingNameFargateTaskRetirementWaitPeriod && p != a.cfg.Namer.Root() {
		return nil, apierr.InvalidParameterf("fargateTaskRetirementWaitPeriod can only be set for the root user (%s), not for %s.", a.cfg.Namer.Root(), p)
	}
	res, err := a.apply(c, wire.PutAccountSetting{Meta: c.meta(), Principal: p, Name: string(in.Name), Value: v})
	if err != nil {
		return nil, err
	}
	return &shape.PutAccountSettingResponse{Setting: res.(*shape.Setting)}, nil
}

func putAccountSettingDefault(a *API, c *call, in *shape.PutAccountSettingDefaultRequest) (any, error) {
	v, err := validateSetting(in.Name, in.Value)
	if err != nil {
		return nil, err
	}
	res, err := a.apply(c, wire.PutAccountSetting{Meta: c.meta(), Principal: a.cfg.Namer.Root(), Name: string(in.Name), Value: v})
	if err != nil {
		return nil, err
	}
	return &shape.PutAccountSettingDefaultResponse{Setting: res.(*shape.Setting)}, nil
}

func deleteAccountSetting(a *API, c *call, in *shape.DeleteAccountSettingRequest) (any, error) {
	if in.Name == "" {
		return nil, apierr.InvalidParameterf("name cannot be empty.")
	}
	if err := checkEnum("name", in.Name); err != nil {
		return nil, err
	}
	if in.Name == shape.SettingNameGuardDutyActivate {
		return nil, errGuardDutyReadOnly()
	}
	p, err := a.principal(c, in.PrincipalArn)
	if err != nil {
		return nil, err
	}
	res, err := a.apply(c, wire.DeleteAccountSetting{Meta: c.meta(), Principal: p, Name: string(in.Name)})
	if err != nil {
		return nil, err
	}
	return &shape.DeleteAccountSettingResponse{Setting: res.(*shape.Setting)}, nil
}

func listAccountSettings(a *API, c *call, in *shape.ListAccountSettingsRequest) (any, error) {
	if err := checkEnum("name", in.Name); err != nil {
		return nil, err
	}
	if in.Value != nil && in.Name == "" {
		return nil, apierr.InvalidParameterf("value can only be used together with name.")
	}
	limit, err := pageSize(&in.MaxResults, 10, 10)
	if in.MaxResults == 0 {
		limit, err = 10, nil
	}
	if err != nil {
		return nil, err
	}
	after, err := resume(c.op, in.NextToken)
	if err != nil {
		return nil, err
	}
	p, err := a.principal(c, in.PrincipalArn)
	if err != nil {
		return nil, err
	}
	snap := a.snapshot()
	names := shape.SettingName("").Values()
	slices.Sort(names)
	out := &shape.ListAccountSettingsResponse{Settings: []shape.Setting{}}
	last := ""
	for _, n := range names {
		if string(n) <= after || in.Name != "" && n != in.Name {
			continue
		}
		var s shape.Setting
		if in.EffectiveSettings {
			v, typ := fsm.ResolveSetting(snap, a.cfg.Namer.Root(), p, string(n))
			s = shape.Setting{Name: n, Value: ptr(v), PrincipalArn: ptr(p), Type: typ}
		} else {
			rec := snap.Setting(p, string(n))
			if rec == nil {
				continue
			}
			s = shape.Setting{Name: n, Value: ptr(rec.Value), PrincipalArn: ptr(p), Type: fsm.SettingType(string(n))}
		}
		if in.Value != nil && deref(s.Value) != *in.Value {
			continue
		}
		if len(out.Settings) == limit {
			out.NextToken = nextToken(c.op, last)
			break
		}
		out.Settings = append(out.Settings, s)
		last = string(n)
	}
	return out, nil
}
