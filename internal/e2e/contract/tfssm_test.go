package contract

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// The provider's internal/service/ssm/parameter.go and its tags
// (ListTagsForResource, AddTagsToResource, RemoveTagsFromResource of
// resource type Parameter).

// parameterConfig is an aws_ssm_parameter's arguments (tier's default
// is Standard, data_type's text, allowed_pattern's "").
type parameterConfig struct {
	name, typ, value, description, tier, keyID string
	tags                                       map[string]string
}

// putParameter mirrors resourceParameterCreate (overwrite false: a new
// resource) and resourceParameterUpdate (overwrite true; no tags, which
// PutParameter refuses with Overwrite).
func (p *cfgProvider) putParameter(c context.Context, cfg parameterConfig, old *parameterConfig) error {
	in := &ssm.PutParameterInput{AllowedPattern: aws.String(""), Name: aws.String(cfg.name), Overwrite: aws.Bool(old != nil),
		Type: ssmtypes.ParameterType(cfg.typ), Value: aws.String(cfg.value), Tier: ssmtypes.ParameterTier(cfg.tier)}
	if old == nil {
		in.DataType = aws.String("text")
		if cfg.description != "" {
			in.Description = aws.String(cfg.description)
		}
		if cfg.keyID != "" && cfg.typ == "SecureString" {
			in.KeyId = aws.String(cfg.keyID)
		}
		for k, v := range cfg.tags {
			in.Tags = append(in.Tags, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
	} else {
		if old.description != cfg.description {
			in.Description = aws.String(cfg.description)
		}
		if old.keyID != cfg.keyID && cfg.typ == "SecureString" {
			in.KeyId = aws.String(cfg.keyID)
		}
	}
	_, err := p.ssm.PutParameter(c, in)
	if isCode(err, "ValidationException") && errContains(err, "Tier is not supported") {
		in.Tier = ""
		_, err = p.ssm.PutParameter(c, in)
	}
	if err != nil {
		return fmt.Errorf("putting SSM Parameter (%s): %w", cfg.name, err)
	}
	if old != nil {
		return p.updateParameterTags(c, cfg.name, old.tags, cfg.tags)
	}
	return nil
}

func (p *cfgProvider) updateParameterTags(c context.Context, name string, old, cfg map[string]string) error {
	removed, changed := tagChanges(old, cfg)
	if len(removed) > 0 {
		if _, err := p.ssm.RemoveTagsFromResource(c, &ssm.RemoveTagsFromResourceInput{ResourceId: aws.String(name),
			ResourceType: ssmtypes.ResourceTypeForTaggingParameter, TagKeys: removed}); err != nil {
			return fmt.Errorf("untagging resource (%s): %w", name, err)
		}
	}
	if len(changed) > 0 {
		in := &ssm.AddTagsToResourceInput{ResourceId: aws.String(name), ResourceType: ssmtypes.ResourceTypeForTaggingParameter}
		for k, v := range changed {
			in.Tags = append(in.Tags, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		if _, err := p.ssm.AddTagsToResource(c, in); err != nil {
			return fmt.Errorf("tagging resource (%s): %w", name, err)
		}
	}
	return nil
}

// readParameter mirrors resourceParameterRead: GetParameter
// WithDecryption, then DescribeParameters filtered on Name Equals (one
// result), then the tags (nil: removed from the state).
func (p *cfgProvider) readParameter(c context.Context, name string) (map[string]any, error) {
	out, err := p.ssm.GetParameter(c, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	var pnf *ssmtypes.ParameterNotFound
	if errors.As(err, &pnf) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading SSM Parameter (%s): %w", name, err)
	}
	prm := out.Parameter
	st := map[string]any{"arn": aws.ToString(prm.ARN), "name": aws.ToString(prm.Name), "type": string(prm.Type), "version": prm.Version,
		"value": aws.ToString(prm.Value)}
	var metas []ssmtypes.ParameterMetadata
	pages := ssm.NewDescribeParametersPaginator(p.ssm, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
		{Key: aws.String("Name"), Option: aws.String("Equals"), Values: []string{name}}}})
	for pages.HasMorePages() {
		page, err := pages.NextPage(c)
		if err != nil {
			return nil, fmt.Errorf("reading SSM Parameter metadata (%s): %w", name, err)
		}
		metas = append(metas, page.Parameters...)
	}
	if len(metas) == 0 {
		return nil, nil
	}
	if len(metas) > 1 {
		return nil, fmt.Errorf("reading SSM Parameter metadata (%s): %d results, want one", name, len(metas))
	}
	m := metas[0]
	st["allowed_pattern"], st["data_type"], st["description"] = aws.ToString(m.AllowedPattern), aws.ToString(m.DataType), aws.ToString(m.Description)
	st["key_id"], st["tier"] = aws.ToString(m.KeyId), string(m.Tier)
	tags, err := p.ssm.ListTagsForResource(c, &ssm.ListTagsForResourceInput{ResourceId: aws.String(name), ResourceType: ssmtypes.ResourceTypeForTaggingParameter})
	if err != nil {
		return nil, fmt.Errorf("listing tags for SSM Parameter (%s): %w", name, err)
	}
	tm := map[string]string{}
	for _, t := range tags.TagList {
		tm[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	st["tags"] = tm
	return st, nil
}

// deleteParameter mirrors resourceParameterDelete (ParameterNotFound is
// done).
func (p *cfgProvider) deleteParameter(c context.Context, name string) error {
	_, err := p.ssm.DeleteParameter(c, &ssm.DeleteParameterInput{Name: aws.String(name)})
	var pnf *ssmtypes.ParameterNotFound
	if errors.As(err, &pnf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting SSM Parameter (%s): %w", name, err)
	}
	return nil
}
