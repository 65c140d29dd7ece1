package fsm

import (
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// AccountSettingDefaults are the values AWS manages when nobody set one.
var AccountSettingDefaults = map[string]string{
	"serviceLongArnFormat":            "enabled",
	"taskLongArnFormat":               "enabled",
	"containerInstanceLongArnFormat":  "enabled",
	"awsvpcTrunking":                  "disabled",
	"containerInsights":               "disabled",
	"fargateFIPSMode":                 "disabled",
	"tagResourceAuthorization":        "on",
	"fargateTaskRetirementWaitPeriod": "7",
	"guardDutyActivate":               "off",
	"defaultLogDriverMode":            "non-blocking",
	"fargateEventWindows":             "disabled",
}

// EffectiveSetting returns the value that applies to principal: its own
// setting, else the account default (root's), else AWS's default.
func EffectiveSetting(s *state.Snapshot, root, principal, name string) string {
	v, _ := ResolveSetting(s, root, principal, name)
	return v
}

// ResolveSetting is EffectiveSetting that also returns the setting's type.
// The type belongs to the setting, not to who set the value: ECS documents
// that "the guardDutyActivate account setting is the only one Amazon Web
// Services manages" (aws_managed); every other setting is user, default
// values included.
func ResolveSetting(s *state.Snapshot, root, principal, name string) (string, shape.SettingType) {
	if st := s.Setting(principal, name); st != nil {
		return st.Value, SettingType(name)
	}
	if st := s.Setting(root, name); st != nil {
		return st.Value, SettingType(name)
	}
	return AccountSettingDefaults[name], SettingType(name)
}

// SettingType is aws_managed for the settings AWS manages, else user.
func SettingType(name string) shape.SettingType {
	if name == string(shape.SettingNameGuardDutyActivate) {
		return shape.SettingTypeAwsManaged
	}
	return shape.SettingTypeUser
}

func applyPutAccountSetting(m *Machine, tx *state.Txn, c *wire.PutAccountSetting) (any, error) {
	rec := &state.AccountSetting{Principal: c.Principal, Name: c.Name, Value: c.Value}
	if err := tx.Put(state.TableSettings, rec); err != nil {
		return nil, err
	}
	return &shape.Setting{Name: shape.SettingName(c.Name), Value: ptr(c.Value), PrincipalArn: ptr(c.Principal), Type: SettingType(c.Name)}, nil
}

func applyDeleteAccountSetting(m *Machine, tx *state.Txn, c *wire.DeleteAccountSetting) (any, error) {
	rec := tx.Setting(c.Principal, c.Name)
	if rec == nil {
		// Nothing to delete: answer with what now applies, as a repeated delete would.
		v, typ := ResolveSetting(&tx.Snapshot, m.namer.Root(), c.Principal, c.Name)
		return &shape.Setting{Name: shape.SettingName(c.Name), Value: ptr(v), PrincipalArn: ptr(c.Principal), Type: typ}, nil
	}
	if err := tx.Delete(state.TableSettings, rec); err != nil {
		return nil, err
	}
	return &shape.Setting{Name: shape.SettingName(c.Name), Value: ptr(rec.Value), PrincipalArn: ptr(c.Principal), Type: SettingType(c.Name)}, nil
}
