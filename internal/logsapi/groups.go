package logsapi

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/logsshape"
	"berth.dev/berth/internal/logstore"
)

// RetentionDays are the values PutRetentionPolicy accepts.
var RetentionDays = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

const (
	maxTags       = 50
	maxDescribe   = 50
	maxKMSKeyID   = 256
	maxTagKey     = 128
	maxTagValue   = 256
	maxNextToken  = 4096
	maxNamePrefix = 512
)

func validTags(member string, tags map[string]string) error {
	if len(tags) > maxTags {
		return validation("{...}", member, "Member must have length less than or equal to 50")
	}
	for k, v := range tags {
		if k == "" || len(k) > maxTagKey || strings.HasPrefix(k, "aws:") {
			return validation(k, member, "Member must satisfy constraint: tag keys are 1 to 128 characters and do not start with aws:")
		}
		if len(v) > maxTagValue {
			return validation(v, member, "Member must satisfy constraint: tag values are at most 256 characters")
		}
	}
	return nil
}

func (a *API) createLogGroup(ctx context.Context, req *awsproto.Request, in *logsshape.CreateLogGroupRequest) (*logsshape.CreateLogGroupResponse, error) {
	name, err := validGroupName("logGroupName", in.LogGroupName)
	if err != nil {
		return nil, err
	}
	if err := validTags("tags", in.Tags); err != nil {
		return nil, err
	}
	g := logstore.Group{Name: name, Tags: in.Tags, Class: string(logsshape.LogGroupClassStandard)}
	switch in.LogGroupClass {
	case "", logsshape.LogGroupClassStandard:
	default:
		return nil, invalid("Only the STANDARD log group class is supported by this server.")
	}
	if in.KmsKeyId != nil {
		if len(*in.KmsKeyId) > maxKMSKeyID {
			return nil, validation(*in.KmsKeyId, "kmsKeyId", "Member must have length less than or equal to 256")
		}
		g.KMSKeyID = *in.KmsKeyId
	}
	if err := a.cfg.Store.CreateGroup(g); err != nil {
		return nil, err
	}
	return &logsshape.CreateLogGroupResponse{}, nil
}

func (a *API) deleteLogGroup(ctx context.Context, req *awsproto.Request, in *logsshape.DeleteLogGroupRequest) (*logsshape.DeleteLogGroupResponse, error) {
	name, err := validGroupName("logGroupName", in.LogGroupName)
	if err != nil {
		return nil, err
	}
	if err := a.cfg.Store.DeleteGroup(name); err != nil {
		return nil, err
	}
	return &logsshape.DeleteLogGroupResponse{}, nil
}

func (a *API) groupShape(g logstore.Group) logsshape.LogGroup {
	out := logsshape.LogGroup{
		LogGroupName: ptr(g.Name), CreationTime: ptr(g.Created), StoredBytes: ptr(g.StoredBytes),
		Arn: ptr(a.groupARN(g.Name) + ":*"), LogGroupArn: ptr(a.groupARN(g.Name)),
		MetricFilterCount: ptr(int32(0)), LogGroupClass: logsshape.LogGroupClass(g.Class),
	}
	if g.Class == "" {
		out.LogGroupClass = logsshape.LogGroupClassStandard
	}
	if g.RetentionDays > 0 {
		out.RetentionInDays = ptr(g.RetentionDays)
	}
	if g.KMSKeyID != "" {
		out.KmsKeyId = ptr(g.KMSKeyID)
	}
	return out
}

func limitOf(n *int32, max int) (int, error) {
	if n == nil {
		return max, nil
	}
	if *n < 1 {
		return 0, validation(strconv.Itoa(int(*n)), "limit", "Member must have value greater than or equal to 1")
	}
	if int(*n) > max {
		return 0, validation(strconv.Itoa(int(*n)), "limit", "Member must have value less than or equal to "+strconv.Itoa(max))
	}
	return int(*n), nil
}

// Describe pages resume after the name in their token.
func nameToken(name string) *string {
	s := base64.RawURLEncoding.EncodeToString([]byte(name))
	return &s
}

func parseNameToken(tok *string) (string, error) {
	if tok == nil {
		return "", nil
	}
	if len(*tok) < 1 || len(*tok) > maxNextToken {
		return "", validation(*tok, "nextToken", "Member must have length between 1 and 4096")
	}
	b, err := base64.RawURLEncoding.DecodeString(*tok)
	if err != nil || len(b) == 0 {
		return "", invalid(MsgInvalidNextToken)
	}
	return string(b), nil
}

func (a *API) describeLogGroups(ctx context.Context, req *awsproto.Request, in *logsshape.DescribeLogGroupsRequest) (*logsshape.DescribeLogGroupsResponse, error) {
	limit, err := limitOf(in.Limit, maxDescribe)
	if err != nil {
		return nil, err
	}
	if in.LogGroupNamePrefix != nil && in.LogGroupNamePattern != nil {
		return nil, invalid("LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive parameters.")
	}
	prefix, pattern := "", ""
	if in.LogGroupNamePrefix != nil {
		if prefix, err = validGroupName("logGroupNamePrefix", in.LogGroupNamePrefix); err != nil {
			return nil, err
		}
	}
	if in.LogGroupNamePattern != nil {
		pattern = *in.LogGroupNamePattern
		if len(pattern) > maxNamePrefix {
			return nil, validation(pattern, "logGroupNamePattern", "Member must have length less than or equal to 512")
		}
		if strings.ContainsAny(pattern, "*?[]") {
			return nil, validation(pattern, "logGroupNamePattern", `Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]*`)
		}
	}
	switch in.LogGroupClass {
	case "", logsshape.LogGroupClassStandard, logsshape.LogGroupClassInfrequentAccess, logsshape.LogGroupClassDelivery, logsshape.LogGroupClassEssentials:
	default:
		return nil, validation(string(in.LogGroupClass), "logGroupClass", "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY, ESSENTIALS]")
	}
	after, err := parseNameToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	idents := map[string]bool{}
	for _, id := range in.LogGroupIdentifiers {
		if n, ok := a.groupFromARN(id); ok {
			idents[n] = true
		} else {
			idents[id] = true
		}
	}
	out := &logsshape.DescribeLogGroupsResponse{LogGroups: []logsshape.LogGroup{}}
	for _, g := range a.cfg.Store.Groups() {
		if g.Name <= after && after != "" {
			continue
		}
		if !strings.HasPrefix(g.Name, prefix) || (pattern != "" && !strings.Contains(strings.ToLower(g.Name), strings.ToLower(pattern))) {
			continue
		}
		if len(idents) > 0 && !idents[g.Name] {
			continue
		}
		if in.LogGroupClass != "" && string(in.LogGroupClass) != g.Class {
			continue
		}
		if len(out.LogGroups) == limit {
			out.NextToken = nameToken(*out.LogGroups[limit-1].LogGroupName)
			break
		}
		out.LogGroups = append(out.LogGroups, a.groupShape(g))
	}
	return out, nil
}

func (a *API) putRetentionPolicy(ctx context.Context, req *awsproto.Request, in *logsshape.PutRetentionPolicyRequest) (*logsshape.PutRetentionPolicyResponse, error) {
	name, err := validGroupName("logGroupName", in.LogGroupName)
	if err != nil {
		return nil, err
	}
	if in.RetentionInDays == nil {
		return nil, missing("retentionInDays")
	}
	days := *in.RetentionInDays
	ok := false
	for _, d := range RetentionDays {
		ok = ok || d == days
	}
	if !ok {
		var vals []string
		for _, d := range RetentionDays {
			vals = append(vals, strconv.Itoa(int(d)))
		}
		return nil, validation(strconv.Itoa(int(days)), "retentionInDays", "Member must satisfy enum value set: ["+strings.Join(vals, ", ")+"]")
	}
	if err := a.cfg.Store.UpdateGroup(name, func(g *logstore.Group) { g.RetentionDays = days }); err != nil {
		return nil, err
	}
	return &logsshape.PutRetentionPolicyResponse{}, nil
}

func (a *API) deleteRetentionPolicy(ctx context.Context, req *awsproto.Request, in *logsshape.DeleteRetentionPolicyRequest) (*logsshape.DeleteRetentionPolicyResponse, error) {
	name, err := validGroupName("logGroupName", in.LogGroupName)
	if err != nil {
		return nil, err
	}
	if err := a.cfg.Store.UpdateGroup(name, func(g *logstore.Group) { g.RetentionDays = 0 }); err != nil {
		return nil, err
	}
	return &logsshape.DeleteRetentionPolicyResponse{}, nil
}

// ---- tags ----

func (a *API) addTags(name string, tags map[string]string) error {
	if err := validTags("tags", tags); err != nil {
		return err
	}
	if len(tags) == 0 {
		return validation("{}", "tags", "Member must have length greater than or equal to 1")
	}
	var tooMany bool
	err := a.cfg.Store.UpdateGroup(name, func(g *logstore.Group) {
		merged := map[string]string{}
		for k, v := range g.Tags {
			merged[k] = v
		}
		for k, v := range tags {
			merged[k] = v
		}
		if len(merged) > maxTags {
			tooMany = true
			return
		}
		g.Tags = merged
	})
	if err != nil {
		return err
	}
	if tooMany {
		return logsError(CodeLimitExceeded, "A log group can have at most 50 tags.")
	}
	return nil
}

func (a *API) removeTags(name string, keys []string, member string) error {
	if len(keys) == 0 {
		return validation("[]", member, "Member must have length greater than or equal to 1")
	}
	return a.cfg.Store.UpdateGroup(name, func(g *logstore.Group) {
		for _, k := range keys {
			delete(g.Tags, k)
		}
	})
}

func (a *API) tags(name string) (map[string]string, error) {
	g, ok := a.cfg.Store.GetGroup(name)
	if !ok {
		return nil, logsError(CodeResourceNotFound, MsgGroupNotFound)
	}
	if g.Tags == nil {
		return map[string]string{}, nil
	}
	return g.Tags, nil
}

func (a *API) tagLogGroup(ctx context.Context, req *awsproto.Request, in *logsshape.TagLogGroupRequest) (*logsshape.TagLogGroupResponse, error) {
	name, err := validGroupName("logGroupName", in.LogGroupName)
	if err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, missing("tags")
	}
	if err := a.addTags(name, in.Tags); err != nil {
		return nil, err
	}
	return &logsshape.TagLogGroupResponse{}, nil
}

func (a *API) untagLogGroup(ctx context.Context, req *awsproto.Request, in *logsshape.UntagLogGroupRequest) (*logsshape.UntagLogGroupResponse, error) {
	name, err := validGroupName("logGroupName", in.LogGroupName)
	if err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, missing("tags")
	}
	if err := a.removeTags(name, in.Tags, "tags"); err != nil {
		return nil, err
	}
	return &logsshape.UntagLogGroupResponse{}, nil
}

func (a *API) listTagsLogGroup(ctx context.Context, req *awsproto.Request, in *logsshape.ListTagsLogGroupRequest) (*logsshape.ListTagsLogGroupResponse, error) {
	name, err := validGroupName("logGroupName", in.LogGroupName)
	if err != nil {
		return nil, err
	}
	t, err := a.tags(name)
	if err != nil {
		return nil, err
	}
	return &logsshape.ListTagsLogGroupResponse{Tags: t}, nil
}

func (a *API) resource(arn *string) (string, error) {
	if arn == nil {
		return "", missing("resourceArn")
	}
	if *arn == "" || len(*arn) > 1011 {
		return "", validation(*arn, "resourceArn", "Member must have length between 1 and 1011")
	}
	name, ok := a.groupFromARN(*arn)
	if !ok {
		if strings.HasPrefix(*arn, "arn:") {
			return "", logsError(CodeResourceNotFound, "The specified resource does not exist.")
		}
		return "", invalid("Invalid ARN: " + *arn)
	}
	return name, nil
}

func (a *API) tagResource(ctx context.Context, req *awsproto.Request, in *logsshape.TagResourceRequest) (*logsshape.TagResourceResponse, error) {
	name, err := a.resource(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, missing("tags")
	}
	if err := a.addTags(name, in.Tags); err != nil {
		return nil, err
	}
	return &logsshape.TagResourceResponse{}, nil
}

func (a *API) untagResource(ctx context.Context, req *awsproto.Request, in *logsshape.UntagResourceRequest) (*logsshape.UntagResourceResponse, error) {
	name, err := a.resource(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if in.TagKeys == nil {
		return nil, missing("tagKeys")
	}
	if err := a.removeTags(name, in.TagKeys, "tagKeys"); err != nil {
		return nil, err
	}
	return &logsshape.UntagResourceResponse{}, nil
}

func (a *API) listTagsForResource(ctx context.Context, req *awsproto.Request, in *logsshape.ListTagsForResourceRequest) (*logsshape.ListTagsForResourceResponse, error) {
	name, err := a.resource(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	t, err := a.tags(name)
	if err != nil {
		return nil, err
	}
	return &logsshape.ListTagsForResourceResponse{Tags: t}, nil
}
