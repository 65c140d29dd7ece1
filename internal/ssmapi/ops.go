package ssmapi

import (
	"context"
	"encoding/base64"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/ssmshape"
	"berth.dev/berth/internal/state"
)

const defaultKeyID = "alias/aws/ssm"

var keyIDPattern = regexp.MustCompile(`^([a-zA-Z0-9:/_-]+)$|^alias/[a-zA-Z0-9:/_-]+$`)

func meta(req *awsproto.Request) wire.Meta { return wire.Meta{Now: req.Now, Principal: req.Principal} }

func notNull(member string) *awsproto.Error {
	return validationf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

// checkMax checks an optional MaxResults.
func checkMax(v *int32, max int32) (int, error) {
	if v == nil {
		return int(max), nil
	}
	if *v < 1 {
		return 0, validationf("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1", *v)
	}
	if *v > max {
		return 0, validationf("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to %d", *v, max)
	}
	return int(*v), nil
}

// Paging tokens are the last answered name (or history offset), base64.
func encodeToken(s string) *string {
	t := base64.RawURLEncoding.EncodeToString([]byte("b1:" + s))
	return &t
}

func decodeToken(t *string) (string, error) {
	if t == nil {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*t)
	if err != nil || !strings.HasPrefix(string(raw), "b1:") {
		return "", ssmError("InvalidNextToken", "The specified token is not valid.")
	}
	return string(raw[3:]), nil
}

func (a *API) putParameter(ctx context.Context, req *awsproto.Request, in *ssmshape.PutParameterRequest) (*ssmshape.PutParameterResponse, error) {
	if in.Name == nil {
		return nil, notNull("name")
	}
	if in.Value == nil {
		return nil, notNull("value")
	}
	name := *in.Name
	if err := checkName(name); err != nil {
		return nil, err
	}
	overwrite := in.Overwrite != nil && *in.Overwrite
	if overwrite && len(in.Tags) > 0 {
		return nil, validationf("Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
	}
	if in.Policies != nil {
		return nil, ssmError("InvalidPolicyTypeException", "berth does not support parameter policies (Expiration, ExpirationNotification, NoChangeNotification): put the parameter without Policies.")
	}
	tags, err := checkTags(in.Tags, false)
	if err != nil {
		return nil, err
	}
	snap := a.cfg.State.Snapshot()
	old := snap.Parameter(name)
	var latest *state.ParameterVersion
	if old != nil {
		latest = old.Latest()
		if !overwrite {
			return nil, ssmError(fsm.SSMParameterAlreadyExists, "The parameter already exists. To overwrite this request value set the overwrite option in the request to true.")
		}
	}
	v := wire.SSMParameterVersion{Version: 1, DataType: "text", Tier: string(ssmshape.ParameterTierStandard)}
	if latest != nil {
		v.Version = latest.Version + 1
		v.Type, v.Tier, v.DataType = latest.Type, latest.Tier, latest.DataType
		v.Description, v.AllowedPattern, v.KeyID = latest.Description, latest.AllowedPattern, latest.KeyID
	}
	switch in.Type {
	case "":
		if latest == nil {
			return nil, validationf("A parameter type is required when you create a parameter.")
		}
	case ssmshape.ParameterTypeString, ssmshape.ParameterTypeStringList, ssmshape.ParameterTypeSecureString:
		if latest != nil && string(in.Type) != latest.Type {
			return nil, ssmErrorf(fsm.SSMHierarchyTypeMismatch, "The parameter type can't be changed from %s to %s. Create a new parameter with another name instead.", latest.Type, in.Type)
		}
		v.Type = string(in.Type)
	default:
		return nil, validationf("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]", in.Type)
	}
	if in.Description != nil {
		if utf8.RuneCountInString(*in.Description) > 1024 {
			return nil, validationf("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1024")
		}
		v.Description = *in.Description
	}
	if in.DataType != nil {
		switch *in.DataType {
		case "text":
		case "aws:ec2:image":
			return nil, validationf("The data type aws:ec2:image is not supported by berth (it has no EC2 images to check the value against): use the data type text.")
		default:
			return nil, validationf("The following data type is not supported: %s (Data type names are all lowercase.)", *in.DataType)
		}
		v.DataType = *in.DataType
	}
	switch in.Tier {
	case "":
	case ssmshape.ParameterTierStandard:
		if v.Tier == string(ssmshape.ParameterTierAdvanced) {
			return nil, validationf("This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.")
		}
	case ssmshape.ParameterTierAdvanced:
		v.Tier = string(in.Tier)
	case ssmshape.ParameterTierIntelligentTiering:
		if len(*in.Value) > maxStdValue {
			v.Tier = string(ssmshape.ParameterTierAdvanced)
		}
	default:
		return nil, validationf("1 validation error detected: Value '%s' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]", in.Tier)
	}
	value := *in.Value
	if value == "" {
		return nil, validationf("1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(value) > maxAdvValue {
		return nil, validationf("1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to %d", maxAdvValue)
	}
	if len(value) > maxStdValue && v.Tier == string(ssmshape.ParameterTierStandard) {
		return nil, validationf("Standard tier parameters support a maximum parameter value of %d characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html", maxStdValue)
	}
	if in.AllowedPattern != nil {
		if len(*in.AllowedPattern) > 1024 {
			return nil, validationf("1 validation error detected: Value at 'allowedPattern' failed to satisfy constraint: Member must have length less than or equal to 1024")
		}
		v.AllowedPattern = *in.AllowedPattern
	}
	if v.AllowedPattern != "" {
		re, err := regexp.Compile(`^(?:` + v.AllowedPattern + `)$`)
		if err != nil {
			return nil, ssmErrorf("InvalidAllowedPatternException", "The allowed pattern %s is not a valid regular expression.", v.AllowedPattern)
		}
		if !re.MatchString(value) {
			return nil, ssmErrorf("ParameterPatternMismatchException", "Parameter value, cannot be validated against allowedPattern: %s", v.AllowedPattern)
		}
	}
	if in.KeyId != nil {
		if v.Type != string(ssmshape.ParameterTypeSecureString) {
			return nil, validationf("KeyId is required for SecureString type parameter only.")
		}
		k := *in.KeyId
		if k == "" || len(k) > 256 || !keyIDPattern.MatchString(k) {
			return nil, ssmErrorf("InvalidKeyId", "The key ID %s is not valid.", k)
		}
		v.KeyID = k
	} else if v.Type == string(ssmshape.ParameterTypeSecureString) && v.KeyID == "" {
		v.KeyID = defaultKeyID
	}
	if v.Type == string(ssmshape.ParameterTypeSecureString) {
		sealed, err := a.cfg.Sealer.Seal([]byte(value), a.sealAD(name, v.Version))
		if err != nil {
			return nil, awsproto.WithStatus(500, "InternalServerError", "The value could not be encrypted.")
		}
		v.Sealed = sealed
	} else {
		v.Value = value
	}
	if _, err := a.apply(ctx, req, wire.PutParameter{Meta: meta(req), Name: name, Overwrite: overwrite, Value: v, Tags: tags}); err != nil {
		return nil, err
	}
	return &ssmshape.PutParameterResponse{Version: v.Version, Tier: ssmshape.ParameterTier(v.Tier)}, nil
}

// render is a version as Get* answer it.
func (a *API) render(p *state.Parameter, v *state.ParameterVersion, sel string, decrypt bool) (ssmshape.Parameter, error) {
	value := v.Value
	if v.Sealed != nil {
		if decrypt {
			plain, err := a.open(p.Name, v)
			if err != nil {
				return ssmshape.Parameter{}, err
			}
			value = plain
		} else {
			value = base64.StdEncoding.EncodeToString(v.Sealed)
		}
	}
	out := ssmshape.Parameter{ARN: ptr(a.ARN(p.Name)), DataType: ptr(v.DataType), LastModifiedDate: ssmshape.NewTimestamp(v.Modified),
		Name: ptr(p.Name), Type: ssmshape.ParameterType(v.Type), Value: &value, Version: v.Version}
	if sel != "" {
		out.Selector = ptr(sel)
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }

// lookupSelector finds what a Get selector names.
func (a *API) lookupSelector(snap *state.Snapshot, ref string) (*state.Parameter, *state.ParameterVersion, selector, error) {
	sel, plain, err := parseSelector(ref)
	if err != nil {
		return nil, nil, sel, err
	}
	p := snap.Parameter(sel.Name)
	if p == nil && plain {
		p = snap.Parameter("/" + sel.Name)
	}
	if p == nil {
		return nil, nil, sel, ssmErrorf(fsm.SSMParameterNotFound, "Parameter %s not found.", ref)
	}
	v, err := pick(p, sel)
	return p, v, sel, err
}

func (a *API) getParameter(ctx context.Context, req *awsproto.Request, in *ssmshape.GetParameterRequest) (*ssmshape.GetParameterResponse, error) {
	if in.Name == nil {
		return nil, notNull("name")
	}
	p, v, sel, err := a.lookupSelector(a.cfg.State.Snapshot(), *in.Name)
	if err != nil {
		return nil, err
	}
	out, err := a.render(p, v, sel.suffix(), in.WithDecryption != nil && *in.WithDecryption)
	if err != nil {
		return nil, err
	}
	return &ssmshape.GetParameterResponse{Parameter: &out}, nil
}

func (a *API) getParameters(ctx context.Context, req *awsproto.Request, in *ssmshape.GetParametersRequest) (*ssmshape.GetParametersResponse, error) {
	if in.Names == nil {
		return nil, notNull("names")
	}
	if len(in.Names) < 1 || len(in.Names) > 10 {
		return nil, validationf("1 validation error detected: Value '[%s]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10, Member must have length greater than or equal to 1", clip(strings.Join(in.Names, ", ")))
	}
	snap := a.cfg.State.Snapshot()
	out := &ssmshape.GetParametersResponse{Parameters: []ssmshape.Parameter{}, InvalidParameters: []string{}}
	seen := map[string]bool{}
	for _, ref := range in.Names {
		if seen[ref] {
			continue
		}
		seen[ref] = true
		p, v, sel, err := a.lookupSelector(snap, ref)
		if err != nil {
			if e, ok := err.(*awsproto.Error); ok && e.Code == "ValidationException" {
				return nil, err
			}
			out.InvalidParameters = append(out.InvalidParameters, ref)
			continue
		}
		r, err := a.render(p, v, sel.suffix(), in.WithDecryption != nil && *in.WithDecryption)
		if err != nil {
			return nil, err
		}
		out.Parameters = append(out.Parameters, r)
	}
	return out, nil
}

func clip(s string) string {
	if len(s) > 128 {
		return s[:128] + "..."
	}
	return s
}

// filter is one checked ParameterStringFilter.
type filter struct {
	key, option string
	values      []string
}

var filterOptions = map[string][]string{
	"Name": {"Equals", "BeginsWith", "Contains"}, "Type": {"Equals"}, "KeyId": {"Equals"},
	"Path": {"Recursive", "OneLevel"}, "Tier": {"Equals"}, "Label": {"Equals"}, "DataType": {"Equals"},
}

// checkFilters checks ParameterFilters; byPath allows only Type, KeyId,
// Label and tag:KEY (GetParametersByPath's).
func checkFilters(in []ssmshape.ParameterStringFilter, byPath bool) ([]filter, error) {
	var out []filter
	for _, f := range in {
		if f.Key == nil {
			return nil, notNull("parameterFilters.member.key")
		}
		key := *f.Key
		opts, known := filterOptions[key]
		if strings.HasPrefix(key, "tag:") && len(key) > 4 {
			known, opts = true, []string{"Equals"}
		}
		if !known {
			return nil, ssmErrorf("InvalidFilterKey", "The filter key %s is not valid. Valid filter keys include: [Path, Name, Type, KeyId, Tier, Label, DataType, tag:KEY].", key)
		}
		if byPath && (key == "Name" || key == "Path" || key == "Tier" || key == "DataType") {
			return nil, ssmErrorf("InvalidFilterKey", "The following filter key is not valid: %s. Valid filter keys include: [Type, KeyId, Label, tag:KEY].", key)
		}
		opt := "Equals"
		if key == "Path" {
			opt = "OneLevel"
		}
		if f.Option != nil {
			opt = *f.Option
			if !slices.Contains(opts, opt) {
				return nil, ssmErrorf("InvalidFilterOption", "The filter option %s is not valid for key %s. Valid options include: [%s].", opt, key, strings.Join(opts, ", "))
			}
		}
		if len(f.Values) == 0 && !strings.HasPrefix(key, "tag:") {
			return nil, ssmErrorf("InvalidFilterValue", "The filter key %s requires at least one value.", key)
		}
		for _, v := range f.Values {
			switch key {
			case "Type":
				if !slices.Contains(ssmshape.ParameterType("").Values(), ssmshape.ParameterType(v)) {
					return nil, ssmErrorf("InvalidFilterValue", "The following filter value is not valid: %s. Valid values include: [String, StringList, SecureString].", v)
				}
			case "Tier":
				if v != "Standard" && v != "Advanced" {
					return nil, ssmErrorf("InvalidFilterValue", "The following filter value is not valid: %s. Valid values include: [Standard, Advanced].", v)
				}
			case "Path":
				if err := checkPath(v); err != nil {
					return nil, ssmErrorf("InvalidFilterValue", "The parameter doesn't meet the parameter name requirements: %s", v)
				}
			}
		}
		out = append(out, filter{key: key, option: opt, values: f.Values})
	}
	return out, nil
}

// pathMatch tells whether name is under path: one level below it, or any
// number with recursive.
func pathMatch(name, path string, recursive bool) bool {
	if !strings.HasPrefix(name, "/") {
		return false
	}
	prefix := strings.TrimSuffix(path, "/") + "/"
	if !strings.HasPrefix(name, prefix) {
		return false
	}
	return recursive || !strings.Contains(name[len(prefix):], "/")
}

// matches tells whether a parameter passes every filter.
func matches(p *state.Parameter, fs []filter) bool {
	v := p.Latest()
	for _, f := range fs {
		ok := false
		switch {
		case f.key == "Name":
			for _, x := range f.values {
				switch f.option {
				case "Equals":
					ok = ok || p.Name == x || "/"+p.Name == x || p.Name == "/"+x
				case "BeginsWith":
					ok = ok || strings.HasPrefix(p.Name, x) || !strings.HasPrefix(x, "/") && strings.HasPrefix(strings.TrimPrefix(p.Name, "/"), x)
				case "Contains":
					ok = ok || strings.Contains(p.Name, x)
				}
			}
		case f.key == "Path":
			for _, x := range f.values {
				ok = ok || pathMatch(p.Name, x, f.option == "Recursive")
			}
		case f.key == "Type":
			ok = slices.Contains(f.values, v.Type)
		case f.key == "KeyId":
			ok = v.KeyID != "" && slices.Contains(f.values, v.KeyID)
		case f.key == "Tier":
			ok = slices.Contains(f.values, v.Tier)
		case f.key == "DataType":
			ok = slices.Contains(f.values, v.DataType)
		case f.key == "Label":
			for _, x := range f.values {
				ok = ok || p.Labeled(x) != nil
			}
		case strings.HasPrefix(f.key, "tag:"):
			k := f.key[4:]
			for _, t := range p.Tags {
				if t.Key == k && (len(f.values) == 0 || slices.Contains(f.values, t.Value)) {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (a *API) getParametersByPath(ctx context.Context, req *awsproto.Request, in *ssmshape.GetParametersByPathRequest) (*ssmshape.GetParametersByPathResponse, error) {
	if in.Path == nil {
		return nil, notNull("path")
	}
	path := *in.Path
	if err := checkPath(path); err != nil {
		return nil, err
	}
	max, err := checkMax(in.MaxResults, 10)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	fs, err := checkFilters(in.ParameterFilters, true)
	if err != nil {
		return nil, err
	}
	recursive := in.Recursive != nil && *in.Recursive
	decrypt := in.WithDecryption != nil && *in.WithDecryption
	out := &ssmshape.GetParametersByPathResponse{Parameters: []ssmshape.Parameter{}}
	prefix := strings.TrimSuffix(path, "/") + "/"
	var ferr error
	a.cfg.State.Snapshot().Parameters(prefix, func(p *state.Parameter) bool {
		if p.Name <= after || !pathMatch(p.Name, path, recursive) || !matches(p, fs) {
			return true
		}
		if len(out.Parameters) == max {
			out.NextToken = encodeToken(*out.Parameters[max-1].Name)
			return false
		}
		r, err := a.render(p, p.Latest(), "", decrypt)
		if err != nil {
			ferr = err
			return false
		}
		out.Parameters = append(out.Parameters, r)
		return true
	})
	if ferr != nil {
		return nil, ferr
	}
	return out, nil
}

func (a *API) describeParameters(ctx context.Context, req *awsproto.Request, in *ssmshape.DescribeParametersRequest) (*ssmshape.DescribeParametersResponse, error) {
	if len(in.Filters) > 0 && len(in.ParameterFilters) > 0 {
		return nil, validationf("You can use either Filters or ParameterFilters in a single request.")
	}
	if in.Shared != nil && *in.Shared {
		return &ssmshape.DescribeParametersResponse{Parameters: []ssmshape.ParameterMetadata{}}, nil
	}
	max, err := checkMax(in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	var fs []filter
	for _, f := range in.Filters {
		key := string(f.Key)
		if key != "Name" && key != "Type" && key != "KeyId" {
			return nil, ssmErrorf("InvalidFilterKey", "The filter key %s is not valid. Valid filter keys include: [Name, Type, KeyId].", key)
		}
		if len(f.Values) == 0 {
			return nil, ssmErrorf("InvalidFilterValue", "The filter key %s requires at least one value.", key)
		}
		if key == "Type" {
			for _, v := range f.Values {
				if !slices.Contains(ssmshape.ParameterType("").Values(), ssmshape.ParameterType(v)) {
					return nil, ssmErrorf("InvalidFilterValue", "The following filter value is not valid: %s. Valid values include: [String, StringList, SecureString].", v)
				}
			}
		}
		fs = append(fs, filter{key: key, option: "Equals", values: f.Values})
	}
	pfs, err := checkFilters(in.ParameterFilters, false)
	if err != nil {
		return nil, err
	}
	fs = append(fs, pfs...)
	out := &ssmshape.DescribeParametersResponse{Parameters: []ssmshape.ParameterMetadata{}}
	a.cfg.State.Snapshot().Parameters("", func(p *state.Parameter) bool {
		if p.Name <= after || !matches(p, fs) {
			return true
		}
		if len(out.Parameters) == max {
			out.NextToken = encodeToken(*out.Parameters[max-1].Name)
			return false
		}
		out.Parameters = append(out.Parameters, a.metadata(p))
		return true
	})
	return out, nil
}

func (a *API) metadata(p *state.Parameter) ssmshape.ParameterMetadata {
	v := p.Latest()
	m := ssmshape.ParameterMetadata{ARN: ptr(a.ARN(p.Name)), DataType: ptr(v.DataType), LastModifiedDate: ssmshape.NewTimestamp(v.Modified),
		LastModifiedUser: ptr(v.User), Name: ptr(p.Name), Policies: []ssmshape.ParameterInlinePolicy{},
		Tier: ssmshape.ParameterTier(v.Tier), Type: ssmshape.ParameterType(v.Type), Version: v.Version}
	if v.Description != "" {
		m.Description = ptr(v.Description)
	}
	if v.AllowedPattern != "" {
		m.AllowedPattern = ptr(v.AllowedPattern)
	}
	if v.KeyID != "" {
		m.KeyId = ptr(v.KeyID)
	}
	return m
}

func (a *API) deleteParameter(ctx context.Context, req *awsproto.Request, in *ssmshape.DeleteParameterRequest) (*ssmshape.DeleteParameterResponse, error) {
	if in.Name == nil {
		return nil, notNull("name")
	}
	if err := checkName(*in.Name); err != nil {
		return nil, err
	}
	res, err := a.apply(ctx, req, wire.DeleteParameters{Meta: meta(req), Names: []string{*in.Name}})
	if err != nil {
		return nil, err
	}
	if r, ok := res.(fsm.DeleteParametersResult); ok && len(r.Deleted) == 0 {
		return nil, ssmErrorf(fsm.SSMParameterNotFound, "Parameter %s not found.", *in.Name)
	}
	return &ssmshape.DeleteParameterResponse{}, nil
}

func (a *API) deleteParameters(ctx context.Context, req *awsproto.Request, in *ssmshape.DeleteParametersRequest) (*ssmshape.DeleteParametersResponse, error) {
	if in.Names == nil {
		return nil, notNull("names")
	}
	if len(in.Names) < 1 || len(in.Names) > 10 {
		return nil, validationf("1 validation error detected: Value '[%s]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10, Member must have length greater than or equal to 1", clip(strings.Join(in.Names, ", ")))
	}
	var valid, invalid []string
	for _, n := range in.Names {
		if checkName(n) != nil {
			invalid = append(invalid, n)
		} else {
			valid = append(valid, n)
		}
	}
	out := &ssmshape.DeleteParametersResponse{DeletedParameters: []string{}, InvalidParameters: []string{}}
	if len(valid) > 0 {
		res, err := a.apply(ctx, req, wire.DeleteParameters{Meta: meta(req), Names: valid})
		if err != nil {
			return nil, err
		}
		r := res.(fsm.DeleteParametersResult)
		out.DeletedParameters = append(out.DeletedParameters, r.Deleted...)
		out.InvalidParameters = append(out.InvalidParameters, r.Invalid...)
	}
	out.InvalidParameters = append(out.InvalidParameters, invalid...)
	return out, nil
}

func (a *API) getParameterHistory(ctx context.Context, req *awsproto.Request, in *ssmshape.GetParameterHistoryRequest) (*ssmshape.GetParameterHistoryResponse, error) {
	if in.Name == nil {
		return nil, notNull("name")
	}
	p, _, sel, err := a.lookupSelector(a.cfg.State.Snapshot(), *in.Name)
	if err != nil {
		return nil, err
	}
	if sel.suffix() != "" {
		return nil, validationf("%s", nameRulesMsg)
	}
	max, err := checkMax(in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	tok, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	start := 0
	if tok != "" {
		if start, err = strconv.Atoi(tok); err != nil || start < 0 || start > len(p.Versions) {
			return nil, ssmError("InvalidNextToken", "The specified token is not valid.")
		}
	}
	decrypt := in.WithDecryption != nil && *in.WithDecryption
	out := &ssmshape.GetParameterHistoryResponse{Parameters: []ssmshape.ParameterHistory{}}
	for i := start; i < len(p.Versions); i++ {
		if len(out.Parameters) == max {
			out.NextToken = encodeToken(strconv.Itoa(i))
			break
		}
		v := &p.Versions[i]
		r, err := a.render(p, v, "", decrypt)
		if err != nil {
			return nil, err
		}
		h := ssmshape.ParameterHistory{DataType: r.DataType, Labels: append([]string{}, v.Labels...), LastModifiedDate: r.LastModifiedDate,
			LastModifiedUser: ptr(v.User), Name: ptr(p.Name), Policies: []ssmshape.ParameterInlinePolicy{},
			Tier: ssmshape.ParameterTier(v.Tier), Type: r.Type, Value: r.Value, Version: v.Version}
		if v.Description != "" {
			h.Description = ptr(v.Description)
		}
		if v.AllowedPattern != "" {
			h.AllowedPattern = ptr(v.AllowedPattern)
		}
		if v.KeyID != "" {
			h.KeyId = ptr(v.KeyID)
		}
		out.Parameters = append(out.Parameters, h)
	}
	return out, nil
}

func checkLabels(labels []string) error {
	if len(labels) < 1 || len(labels) > 10 {
		return validationf("1 validation error detected: Value '[%s]' at 'labels' failed to satisfy constraint: Member must have length less than or equal to 10, Member must have length greater than or equal to 1", clip(strings.Join(labels, ", ")))
	}
	return nil
}

func (a *API) labelParameterVersion(ctx context.Context, req *awsproto.Request, in *ssmshape.LabelParameterVersionRequest) (*ssmshape.LabelParameterVersionResponse, error) {
	if in.Name == nil {
		return nil, notNull("name")
	}
	if in.Labels == nil {
		return nil, notNull("labels")
	}
	if err := checkName(*in.Name); err != nil {
		return nil, err
	}
	if err := checkLabels(in.Labels); err != nil {
		return nil, err
	}
	cmd := wire.LabelParameterVersion{Meta: meta(req), Name: *in.Name}
	if in.ParameterVersion != nil {
		if *in.ParameterVersion < 1 {
			return nil, ssmErrorf(fsm.SSMParameterVersionNotFound, "Systems Manager could not find version %d of %s. Verify the version and try again.", *in.ParameterVersion, *in.Name)
		}
		cmd.ParameterVersion = *in.ParameterVersion
	}
	out := &ssmshape.LabelParameterVersionResponse{InvalidLabels: []string{}}
	for _, l := range in.Labels {
		if checkLabel(l) != nil {
			out.InvalidLabels = append(out.InvalidLabels, l)
		} else if !slices.Contains(cmd.Labels, l) {
			cmd.Labels = append(cmd.Labels, l)
		}
	}
	if len(cmd.Labels) == 0 {
		p := a.cfg.State.Snapshot().Parameter(*in.Name)
		if p == nil {
			return nil, ssmErrorf(fsm.SSMParameterNotFound, "Parameter %s not found.", *in.Name)
		}
		out.ParameterVersion = p.Latest().Version
		if cmd.ParameterVersion != 0 {
			out.ParameterVersion = cmd.ParameterVersion
		}
		return out, nil
	}
	res, err := a.apply(ctx, req, cmd)
	if err != nil {
		return nil, err
	}
	out.ParameterVersion = res.(fsm.LabelResult).Version
	return out, nil
}

func (a *API) unlabelParameterVersion(ctx context.Context, req *awsproto.Request, in *ssmshape.UnlabelParameterVersionRequest) (*ssmshape.UnlabelParameterVersionResponse, error) {
	if in.Name == nil {
		return nil, notNull("name")
	}
	if in.ParameterVersion == nil {
		return nil, notNull("parameterVersion")
	}
	if in.Labels == nil {
		return nil, notNull("labels")
	}
	if err := checkName(*in.Name); err != nil {
		return nil, err
	}
	if err := checkLabels(in.Labels); err != nil {
		return nil, err
	}
	res, err := a.apply(ctx, req, wire.UnlabelParameterVersion{Meta: meta(req), Name: *in.Name, ParameterVersion: *in.ParameterVersion, Labels: in.Labels})
	if err != nil {
		return nil, err
	}
	r := res.(fsm.UnlabelResult)
	return &ssmshape.UnlabelParameterVersionResponse{RemovedLabels: append([]string{}, r.Removed...), InvalidLabels: append([]string{}, r.Invalid...)}, nil
}

var tagPattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// checkTags applies SSM's tag rules.
func checkTags(tags []ssmshape.Tag, required bool) ([]wire.SSMTag, error) {
	if required && len(tags) == 0 {
		return nil, validationf("1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(tags) > fsm.SSMMaxTags {
		return nil, ssmErrorf("TooManyTagsError", "The Tags parameter contains more than %d tags.", fsm.SSMMaxTags)
	}
	var out []wire.SSMTag
	for i, t := range tags {
		if t.Key == nil {
			return nil, notNull("tags." + strconv.Itoa(i+1) + ".member.key")
		}
		if t.Value == nil {
			return nil, notNull("tags." + strconv.Itoa(i+1) + ".member.value")
		}
		k, v := *t.Key, *t.Value
		if n := utf8.RuneCountInString(k); n < 1 || n > 128 || !tagPattern.MatchString(k) {
			return nil, validationf("1 validation error detected: Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member must have length between 1 and 128 and match the pattern ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$", clip(k), i+1)
		}
		if utf8.RuneCountInString(v) > 256 || !tagPattern.MatchString(v) {
			return nil, validationf("1 validation error detected: Value '%s' at 'tags.%d.member.value' failed to satisfy constraint: Member must have length less than or equal to 256 and match the pattern ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$", clip(v), i+1)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, validationf("Tag keys beginning with aws: are reserved for AWS use: %s", clip(k))
		}
		out = append(out, wire.SSMTag{Key: k, Value: v})
	}
	return out, nil
}

// resource checks a tagging request's resource: a parameter by name.
func resource(typ ssmshape.ResourceTypeForTagging, id *string) (string, error) {
	if typ == "" {
		return "", notNull("resourceType")
	}
	if id == nil {
		return "", notNull("resourceId")
	}
	if typ != ssmshape.ResourceTypeForTaggingParameter {
		return "", ssmErrorf("InvalidResourceType", "The resource type %s is not valid: berth's SSM serves Parameter only.", typ)
	}
	if checkName(*id) != nil {
		return "", ssmErrorf("InvalidResourceId", "The resource ID \"%s\" is not valid. Verify the ID and try again.", clip(*id))
	}
	return *id, nil
}

func (a *API) addTags(ctx context.Context, req *awsproto.Request, in *ssmshape.AddTagsToResourceRequest) (*ssmshape.AddTagsToResourceResponse, error) {
	name, err := resource(in.ResourceType, in.ResourceId)
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags, true)
	if err != nil {
		return nil, err
	}
	if _, err := a.apply(ctx, req, wire.AddParameterTags{Meta: meta(req), Name: name, Tags: tags}); err != nil {
		return nil, err
	}
	return &ssmshape.AddTagsToResourceResponse{}, nil
}

func (a *API) removeTags(ctx context.Context, req *awsproto.Request, in *ssmshape.RemoveTagsFromResourceRequest) (*ssmshape.RemoveTagsFromResourceResponse, error) {
	name, err := resource(in.ResourceType, in.ResourceId)
	if err != nil {
		return nil, err
	}
	if in.TagKeys == nil {
		return nil, notNull("tagKeys")
	}
	if _, err := a.apply(ctx, req, wire.RemoveParameterTags{Meta: meta(req), Name: name, Keys: in.TagKeys}); err != nil {
		return nil, err
	}
	return &ssmshape.RemoveTagsFromResourceResponse{}, nil
}

func (a *API) listTags(ctx context.Context, req *awsproto.Request, in *ssmshape.ListTagsForResourceRequest) (*ssmshape.ListTagsForResourceResponse, error) {
	name, err := resource(in.ResourceType, in.ResourceId)
	if err != nil {
		return nil, err
	}
	p := a.cfg.State.Snapshot().Parameter(name)
	if p == nil {
		return nil, ssmErrorf("InvalidResourceId", "The resource ID \"%s\" is not valid. Verify the ID and try again.", clip(name))
	}
	out := &ssmshape.ListTagsForResourceResponse{TagList: []ssmshape.Tag{}}
	for _, t := range p.Tags {
		out.TagList = append(out.TagList, ssmshape.Tag{Key: ptr(t.Key), Value: ptr(t.Value)})
	}
	return out, nil
}
