package wire

// PutAccountSetting sets a setting for a principal. The account default is
// the setting of the account's root principal.
type PutAccountSetting struct {
	Meta
	Principal string `json:"principalArn"`
	Name      string `json:"name"`
	Value     string `json:"value"`
}

func (PutAccountSetting) Type() Type     { return TypePutAccountSetting }
func (PutAccountSetting) Version() uint8 { return 1 }

// DeleteAccountSetting removes a principal's explicit setting.
type DeleteAccountSetting struct {
	Meta
	Principal string `json:"principalArn"`
	Name      string `json:"name"`
}

func (DeleteAccountSetting) Type() Type     { return TypeDeleteAccountSetting }
func (DeleteAccountSetting) Version() uint8 { return 1 }
