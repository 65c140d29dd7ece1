package e2e

import (
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

const (
	rootARN  = "arn:aws:iam::123456789012:root"
	aliceARN = "arn:aws:iam::123456789012:user/alice"
)

// settingDefaults are the values of settings nobody set.
var settingDefaults = map[types.SettingName]string{
	types.SettingNameServiceLongArnFormat:            "enabled",
	types.SettingNameTaskLongArnFormat:               "enabled",
	types.SettingNameContainerInstanceLongArnFormat:  "enabled",
	types.SettingNameAwsvpcTrunking:                  "disabled",
	types.SettingNameContainerInsights:               "disabled",
	types.SettingNameFargateFipsMode:                 "disabled",
	types.SettingNameTagResourceAuthorization:        "on",
	types.SettingNameFargateTaskRetirementWaitPeriod: "7",
	types.SettingNameGuardDutyActivate:               "off",
	types.SettingNameDefaultLogDriverMode:            "non-blocking",
	types.SettingNameFargateEventWindows:             "disabled",
}

// listSettings pages through ListAccountSettings and returns every setting.
func (e *env) listSettings(in ecs.ListAccountSettingsInput) []types.Setting {
	e.t.Helper()
	var out []types.Setting
	p := ecs.NewListAccountSettingsPaginator(e.ecs, &in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx(e.t))
		if err != nil {
			e.t.Fatalf("list account settings: %v", err)
		}
		out = append(out, page.Settings...)
	}
	return out
}

func settingValues(ss []types.Setting) map[types.SettingName]string {
	m := map[types.SettingName]string{}
	for _, s := range ss {
		m[s.Name] = aws.ToString(s.Value)
	}
	return m
}

func TestSettings_EffectiveDefaultsAndPagination(t *testing.T) {
	e := start(t)
	c := ctx(t)
	// Nothing set: the explicit list is empty, the effective one complete.
	if got := e.listSettings(ecs.ListAccountSettingsInput{}); len(got) != 0 {
		t.Fatalf("got %+v, want no explicit settings", got)
	}
	first, err := e.ecs.ListAccountSettings(c, &ecs.ListAccountSettingsInput{EffectiveSettings: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Settings) != 10 || first.NextToken == nil {
		t.Fatalf("got %d settings and token %v, want a full page of 10 and a token", len(first.Settings), first.NextToken)
	}
	all := e.listSettings(ecs.ListAccountSettingsInput{EffectiveSettings: true})
	if got := settingValues(all); !maps.Equal(got, settingDefaults) {
		t.Fatalf("got %v, want %v", got, settingDefaults)
	}
	for _, s := range all {
		if got := aws.ToString(s.PrincipalArn); got != rootARN {
			t.Fatalf("got principal %v, want %v", got, rootARN)
		}
		want := types.SettingTypeUser
		if s.Name == types.SettingNameGuardDutyActivate {
			want = types.SettingTypeAwsManaged
		}
		if s.Type != want {
			t.Fatalf("got type %v for %s, want %v", s.Type, s.Name, want)
		}
	}
	// Pages of one: every setting exactly once.
	var names []types.SettingName
	pages := 0
	p := ecs.NewListAccountSettingsPaginator(e.ecs, &ecs.ListAccountSettingsInput{EffectiveSettings: true, MaxResults: 1})
	for p.HasMorePages() {
		page, err := p.NextPage(c)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Settings) != 1 {
			t.Fatalf("got %d on a page, want 1", len(page.Settings))
		}
		pages++
		names = append(names, page.Settings[0].Name)
	}
	if pages != len(settingDefaults) || len(slices.Compact(slices.Sorted(slices.Values(names)))) != len(settingDefaults) {
		t.Fatalf("got %v in %d pages, want each of the %d settings once", names, pages, len(settingDefaults))
	}

	// Filters.
	got := e.listSettings(ecs.ListAccountSettingsInput{EffectiveSettings: true, Name: types.SettingNameContainerInsights})
	if len(got) != 1 || aws.ToString(got[0].Value) != "disabled" {
		t.Fatalf("got %+v, want containerInsights=disabled", got)
	}
	got = e.listSettings(ecs.ListAccountSettingsInput{EffectiveSettings: true, Name: types.SettingNameContainerInsights, Value: aws.String("enabled")})
	if len(got) != 0 {
		t.Fatalf("got %+v, want nothing for value enabled", got)
	}
	got = e.listSettings(ecs.ListAccountSettingsInput{EffectiveSettings: true, Name: types.SettingNameTagResourceAuthorization, Value: aws.String("on")})
	if len(got) != 1 {
		t.Fatalf("got %+v, want tagResourceAuthorization=on", got)
	}

	// Bad requests.
	for _, n := range []int32{11, -1} {
		_, err := e.ecs.ListAccountSettings(c, &ecs.ListAccountSettingsInput{MaxResults: n})
		wantAPIError[*types.InvalidParameterException](t, err, "maxResults")
	}
	_, err = e.ecs.ListAccountSettings(c, &ecs.ListAccountSettingsInput{Value: aws.String("enabled")})
	wantAPIError[*types.InvalidParameterException](t, err, "name")
	_, err = e.ecs.ListAccountSettings(c, &ecs.ListAccountSettingsInput{Name: "fooSetting"})
	wantAPIError[*types.InvalidParameterException](t, err, "fooSetting")
	_, err = e.ecs.ListAccountSettings(c, &ecs.ListAccountSettingsInput{NextToken: aws.String("nope")})
	wantAPIError[*types.InvalidParameterException](t, err, "nextToken")
	_, err = e.ecs.ListAccountSettings(c, &ecs.ListAccountSettingsInput{PrincipalArn: aws.String("alice")})
	wantAPIError[*types.InvalidParameterException](t, err, "alice")
}

func TestSettings_PutDeleteAndPrincipals(t *testing.T) {
	e := start(t)
	c := ctx(t)
	// Without principalArn: the caller's (root's) setting, which is the account default.
	put, err := e.ecs.PutAccountSetting(c, &ecs.PutAccountSettingInput{Name: types.SettingNameAwsvpcTrunking, Value: aws.String("enabled")})
	if err != nil {
		t.Fatal(err)
	}
	if s := put.Setting; s.Name != types.SettingNameAwsvpcTrunking || aws.ToString(s.Value) != "enabled" || aws.ToString(s.PrincipalArn) != rootARN || s.Type != types.SettingTypeUser {
		t.Fatalf("got %+v, want awsvpcTrunking=enabled for root, type user", s)
	}
	// For a user.
	put, err = e.ecs.PutAccountSetting(c, &ecs.PutAccountSettingInput{Name: types.SettingNameTaskLongArnFormat, Value: aws.String("disabled"), PrincipalArn: aws.String(aliceARN)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(put.Setting.PrincipalArn); got != aliceARN {
		t.Fatalf("got principal %v, want %v", got, aliceARN)
	}
	// PutAccountSettingDefault sets root's.
	def, err := e.ecs.PutAccountSettingDefault(c, &ecs.PutAccountSettingDefaultInput{Name: types.SettingNameFargateTaskRetirementWaitPeriod, Value: aws.String("14")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(def.Setting.PrincipalArn); got != rootARN {
		t.Fatalf("got principal %v, want %v", got, rootARN)
	}
	if got, want := e.stateCounts()["settings"], 3; got != want {
		t.Fatalf("got %d stored settings, want %d", got, want)
	}

	// Explicit settings per principal.
	if got, want := settingValues(e.listSettings(ecs.ListAccountSettingsInput{})), map[types.SettingName]string{
		types.SettingNameAwsvpcTrunking: "enabled", types.SettingNameFargateTaskRetirementWaitPeriod: "14",
	}; !maps.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	aliceOwn := e.listSettings(ecs.ListAccountSettingsInput{PrincipalArn: aws.String(aliceARN)})
	if got, want := settingValues(aliceOwn), map[types.SettingName]string{types.SettingNameTaskLongArnFormat: "disabled"}; !maps.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := aws.ToString(aliceOwn[0].PrincipalArn); got != aliceARN {
		t.Fatalf("got principal %v, want %v", got, aliceARN)
	}
	// Effective for alice: her own, else the account default, else AWS's.
	aliceEff := settingValues(e.listSettings(ecs.ListAccountSettingsInput{PrincipalArn: aws.String(aliceARN), EffectiveSettings: true}))
	for name, want := range map[types.SettingName]string{
		types.SettingNameTaskLongArnFormat:               "disabled",
		types.SettingNameAwsvpcTrunking:                  "enabled",
		types.SettingNameFargateTaskRetirementWaitPeriod: "14",
		types.SettingNameServiceLongArnFormat:            "enabled",
	} {
		if got := aliceEff[name]; got != want {
			t.Fatalf("got alice's effective %s = %v, want %v", name, got, want)
		}
	}
	// Root's own effective taskLongArnFormat is untouched.
	if got := settingValues(e.listSettings(ecs.ListAccountSettingsInput{EffectiveSettings: true}))[types.SettingNameTaskLongArnFormat]; got != "enabled" {
		t.Fatalf("got root's taskLongArnFormat %v, want enabled", got)
	}
	// A principal given as the root ARN is the same as none.
	if got := settingValues(e.listSettings(ecs.ListAccountSettingsInput{PrincipalArn: aws.String(rootARN)})); len(got) != 2 {
		t.Fatalf("got %v for the root ARN, want root's two settings", got)
	}

	// Delete alice's: she falls back to the default.
	del, err := e.ecs.DeleteAccountSetting(c, &ecs.DeleteAccountSettingInput{Name: types.SettingNameTaskLongArnFormat, PrincipalArn: aws.String(aliceARN)})
	if err != nil {
		t.Fatal(err)
	}
	if s := del.Setting; aws.ToString(s.Value) != "disabled" || aws.ToString(s.PrincipalArn) != aliceARN {
		t.Fatalf("got %+v, want the deleted setting", s)
	}
	if got := settingValues(e.listSettings(ecs.ListAccountSettingsInput{PrincipalArn: aws.String(aliceARN), EffectiveSettings: true}))[types.SettingNameTaskLongArnFormat]; got != "enabled" {
		t.Fatalf("got %v after delete, want enabled", got)
	}
	// Delete the account default: everyone falls back to AWS's.
	if _, err := e.ecs.DeleteAccountSetting(c, &ecs.DeleteAccountSettingInput{Name: types.SettingNameAwsvpcTrunking}); err != nil {
		t.Fatal(err)
	}
	if got := settingValues(e.listSettings(ecs.ListAccountSettingsInput{PrincipalArn: aws.String(aliceARN), EffectiveSettings: true}))[types.SettingNameAwsvpcTrunking]; got != "disabled" {
		t.Fatalf("got %v, want disabled", got)
	}
	if got, want := e.stateCounts()["settings"], 1; got != want {
		t.Fatalf("got %d stored settings, want %d", got, want)
	}
	// Deleting what is not set is harmless.
	if _, err := e.ecs.DeleteAccountSetting(c, &ecs.DeleteAccountSettingInput{Name: types.SettingNameAwsvpcTrunking}); err != nil {
		t.Fatalf("got %v deleting an unset setting, want success", err)
	}
}

func TestSettings_Values(t *testing.T) {
	e := start(t)
	c := ctx(t)
	cases := []struct {
		name  types.SettingName
		good  []string
		wrong []string
	}{
		{types.SettingNameServiceLongArnFormat, []string{"enabled", "disabled"}, []string{"on", "enhanced", "Enabled"}},
		{types.SettingNameTaskLongArnFormat, []string{"enabled", "disabled"}, []string{"off"}},
		{types.SettingNameContainerInstanceLongArnFormat, []string{"enabled", "disabled"}, []string{"yes"}},
		{types.SettingNameAwsvpcTrunking, []string{"enabled", "disabled"}, []string{"enhanced"}},
		{types.SettingNameContainerInsights, []string{"enabled", "disabled", "enhanced"}, []string{"on"}},
		{types.SettingNameFargateFipsMode, []string{"enabled", "disabled"}, []string{"on"}},
		{types.SettingNameTagResourceAuthorization, []string{"on", "off"}, []string{"enabled"}},
		{types.SettingNameFargateTaskRetirementWaitPeriod, []string{"0", "7", "14"}, []string{"1", "30", "seven"}},
		{types.SettingNameDefaultLogDriverMode, []string{"blocking", "non-blocking"}, []string{"enabled"}},
		{types.SettingNameFargateEventWindows, []string{"enabled", "disabled"}, []string{"on"}},
	}
	for _, tc := range cases {
		t.Run(string(tc.name), func(t *testing.T) {
			for _, v := range tc.good {
				if _, err := e.ecs.PutAccountSetting(c, &ecs.PutAccountSettingInput{Name: tc.name, Value: aws.String(v)}); err != nil {
					t.Fatalf("got %v for %s=%s, want success", err, tc.name, v)
				}
				if _, err := e.ecs.PutAccountSettingDefault(c, &ecs.PutAccountSettingDefaultInput{Name: tc.name, Value: aws.String(v)}); err != nil {
					t.Fatalf("got %v for default %s=%s, want success", err, tc.name, v)
				}
			}
			last := tc.good[len(tc.good)-1]
			for _, v := range append(tc.wrong, "") {
				_, err := e.ecs.PutAccountSetting(c, &ecs.PutAccountSettingInput{Name: tc.name, Value: aws.String(v)})
				wantAPIError[*types.InvalidParameterException](t, err, "")
				_, err = e.ecs.PutAccountSettingDefault(c, &ecs.PutAccountSettingDefaultInput{Name: tc.name, Value: aws.String(v)})
				wantAPIError[*types.InvalidParameterException](t, err, "")
			}
			got := e.listSettings(ecs.ListAccountSettingsInput{Name: tc.name})
			if len(got) != 1 || aws.ToString(got[0].Value) != last {
				t.Fatalf("got %+v after rejected values, want %s=%s", got, tc.name, last)
			}
		})
	}
}

func TestSettings_Rejects(t *testing.T) {
	e := start(t)
	c := ctx(t)
	counts := e.stateCounts()
	check := func(what string, err error, msg string) {
		t.Helper()
		wantAPIError[*types.InvalidParameterException](t, err, msg)
		if got := e.stateCounts(); !maps.Equal(got, counts) {
			t.Fatalf("%s: got state %v, want %v", what, got, counts)
		}
	}
	// guardDutyActivate is read-only.
	_, err := e.ecs.PutAccountSetting(c, &ecs.PutAccountSettingInput{Name: types.SettingNameGuardDutyActivate, Value: aws.String("on")})
	check("put guardDutyActivate", err, "guardDutyActivate")
	_, err = e.ecs.PutAccountSettingDefault(c, &ecs.PutAccountSettingDefaultInput{Name: types.SettingNameGuardDutyActivate, Value: aws.String("on")})
	check("default guardDutyActivate", err, "guardDutyActivate")
	_, err = e.ecs.DeleteAccountSetting(c, &ecs.DeleteAccountSettingInput{Name: types.SettingNameGuardDutyActivate})
	check("delete guardDutyActivate", err, "guardDutyActivate")
	// Unknown names.
	_, err = e.ecs.PutAccountSetting(c, &ecs.PutAccountSettingInput{Name: "dualStackIPv7", Value: aws.String("enabled")})
	check("unknown name", err, "dualStackIPv7")
	_, err = e.ecs.DeleteAccountSetting(c, &ecs.DeleteAccountSettingInput{Name: "dualStackIPv7"})
	check("delete unknown name", err, "dualStackIPv7")
	// Principals that are not a user, role or root of this account.
	for _, p := range []string{"alice", "arn:aws:iam::999999999999:user/alice", "arn:aws:iam::123456789012:group/devs", "arn:aws:ecs:us-east-1:123456789012:cluster/x"} {
		_, err = e.ecs.PutAccountSetting(c, &ecs.PutAccountSettingInput{Name: types.SettingNameContainerInsights, Value: aws.String("enabled"), PrincipalArn: aws.String(p)})
		check("principal "+p, err, p)
		_, err = e.ecs.DeleteAccountSetting(c, &ecs.DeleteAccountSettingInput{Name: types.SettingNameContainerInsights, PrincipalArn: aws.String(p)})
		check("delete principal "+p, err, p)
	}
	// The Fargate retirement wait time is root's alone.
	_, err = e.ecs.PutAccountSetting(c, &ecs.PutAccountSettingInput{Name: types.SettingNameFargateTaskRetirementWaitPeriod, Value: aws.String("0"), PrincipalArn: aws.String(aliceARN)})
	check("retirement wait for a user", err, "root")
	// A role is a valid principal.
	if _, err := e.ecs.PutAccountSetting(c, &ecs.PutAccountSettingInput{Name: types.SettingNameContainerInsights, Value: aws.String("enabled"),
		PrincipalArn: aws.String("arn:aws:iam::123456789012:role/deployer")}); err != nil {
		t.Fatalf("got %v for a role, want success", err)
	}
	// name and value are required; the SDK checks that itself, so send raw.
	for _, body := range []string{`{"value":"enabled"}`, `{"name":"containerInsights"}`, `{"name":"containerInsights","value":""}`} {
		r := e.raw("PutAccountSetting", []byte(body), true, nil)
		if r.Status != 400 || r.Type != "InvalidParameterException" {
			t.Fatalf("got %d %s %q for %s, want 400 InvalidParameterException", r.Status, r.Type, r.Message, body)
		}
	}
}

func TestSettings_ContainerInsightsDefaultAppliesToNewClusters(t *testing.T) {
	e := start(t)
	c := ctx(t)
	insights := func(name string) string {
		t.Helper()
		d, err := e.ecs.DescribeClusters(c, &ecs.DescribeClustersInput{Clusters: []string{name}, Include: []types.ClusterField{types.ClusterFieldSettings}})
		if err != nil || len(d.Clusters) != 1 {
			t.Fatalf("describe %s: %v %+v", name, err, d)
		}
		for _, s := range d.Clusters[0].Settings {
			if s.Name == types.ClusterSettingNameContainerInsights {
				return aws.ToString(s.Value)
			}
		}
		return ""
	}
	e.createCluster("before")
	if _, err := e.ecs.PutAccountSettingDefault(c, &ecs.PutAccountSettingDefaultInput{Name: types.SettingNameContainerInsights, Value: aws.String("enabled")}); err != nil {
		t.Fatal(err)
	}
	e.createCluster("after")
	if _, err := e.ecs.CreateCluster(c, &ecs.CreateClusterInput{ClusterName: aws.String("explicit"),
		Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("disabled")}}}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"before": "disabled", "after": "enabled", "explicit": "disabled"} {
		if got := insights(name); got != want {
			t.Fatalf("got containerInsights %v on %s, want %v", got, name, want)
		}
	}
	// enhanced works the same way.
	if _, err := e.ecs.PutAccountSetting(c, &ecs.PutAccountSettingInput{Name: types.SettingNameContainerInsights, Value: aws.String("enhanced")}); err != nil {
		t.Fatal(err)
	}
	e.createCluster("enhanced")
	if got := insights("enhanced"); got != "enhanced" {
		t.Fatalf("got %v, want enhanced", got)
	}
}
