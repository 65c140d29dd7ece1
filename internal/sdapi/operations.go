package sdapi

import (
	"context"
	"strconv"
	"time"

	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/sd"
	"berth.dev/berth/internal/sdshape"
	"berth.dev/berth/internal/state"
)

func (a *API) getOperation(ctx context.Context, req *awsproto.Request, in *sdshape.GetOperationRequest) (*sdshape.GetOperationResponse, error) {
	if in.OperationId == nil {
		return nil, sd.Missing("operationId")
	}
	if len(*in.OperationId) > sd.MaxOperationID {
		return nil, sd.Constraint(*in.OperationId, "operationId", "Member must have length less than or equal to 255")
	}
	o := a.cfg.State.Snapshot().SDOperation(*in.OperationId)
	if o == nil {
		return nil, sdError(sd.CodeOperationNotFound, "Operation not found: "+*in.OperationId)
	}
	return &sdshape.GetOperationResponse{Operation: &sdshape.Operation{Id: str(o.ID), Type: sdshape.OperationType(o.Type),
		Status: sdshape.OperationStatus(o.Status), ErrorCode: optStr(o.ErrorCode), ErrorMessage: optStr(o.ErrorMessage),
		Targets: o.Targets, CreateDate: ts(o.CreatedAt), UpdateDate: ts(o.UpdatedAt), OwnerAccount: str(a.cfg.Account)}}, nil
}

func parseEpoch(s string) (time.Time, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(f * 1000)), true
}

func (a *API) listOperations(ctx context.Context, req *awsproto.Request, in *sdshape.ListOperationsRequest) (*sdshape.ListOperationsResponse, error) {
	size, err := pageSize(in.MaxResults, sd.MaxListResults, sd.MaxListResults)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	var preds []func(*state.SDOperation) bool
	for _, f := range in.Filters {
		f := f
		switch f.Name {
		case sdshape.OperationFilterNameNamespaceId, sdshape.OperationFilterNameServiceId, sdshape.OperationFilterNameStatus, sdshape.OperationFilterNameType:
			c, err := condition(f.Condition, f.Values, sdshape.FilterConditionEq, sdshape.FilterConditionIn)
			if err != nil {
				return nil, err
			}
			key := map[sdshape.OperationFilterName]string{sdshape.OperationFilterNameNamespaceId: "NAMESPACE", sdshape.OperationFilterNameServiceId: "SERVICE"}[f.Name]
			preds = append(preds, func(o *state.SDOperation) bool {
				switch f.Name {
				case sdshape.OperationFilterNameStatus:
					return matchCond(c, f.Values, o.Status)
				case sdshape.OperationFilterNameType:
					return matchCond(c, f.Values, o.Type)
				}
				return matchCond(c, f.Values, o.Targets[key])
			})
		case sdshape.OperationFilterNameUpdateDate:
			if _, err := condition(f.Condition, f.Values, sdshape.FilterConditionBetween); err != nil {
				return nil, err
			}
			from, ok1 := parseEpoch(f.Values[0])
			to, ok2 := parseEpoch(f.Values[1])
			if !ok1 || !ok2 {
				return nil, sd.Invalid("UPDATE_DATE values must be timestamps in epoch seconds.")
			}
			preds = append(preds, func(o *state.SDOperation) bool { return !o.UpdatedAt.Before(from) && !o.UpdatedAt.After(to) })
		case "":
			return nil, sd.Missing("filters.member.name")
		default:
			return nil, sd.Constraint(string(f.Name), "filters.member.name", "Member must satisfy enum value set: [NAMESPACE_ID, SERVICE_ID, STATUS, TYPE, UPDATE_DATE]")
		}
	}
	out := &sdshape.ListOperationsResponse{Operations: []sdshape.OperationSummary{}}
	a.cfg.State.Snapshot().SDOperations(after, func(o *state.SDOperation) bool {
		for _, p := range preds {
			if !p(o) {
				return true
			}
		}
		if len(out.Operations) == size {
			out.NextToken = encodeToken(*out.Operations[size-1].Id)
			return false
		}
		out.Operations = append(out.Operations, sdshape.OperationSummary{Id: str(o.ID), Status: sdshape.OperationStatus(o.Status)})
		return true
	})
	return out, nil
}

// resourceARN checks a ResourceARN and finds its tags.
func (a *API) resourceTags(arn *string) (string, []state.SDTag, error) {
	if arn == nil {
		return "", nil, sd.Missing("resourceARN")
	}
	if *arn == "" || len(*arn) > sd.MaxARN {
		return "", nil, sd.Constraint(*arn, "resourceARN", "Member must have length between 1 and 1011")
	}
	snap := a.cfg.State.Snapshot()
	if n := snap.SDNamespaceByARN(*arn); n != nil {
		return *arn, n.Tags, nil
	}
	if s := snap.SDServiceByARN(*arn); s != nil {
		return *arn, s.Tags, nil
	}
	return "", nil, sdError(sd.CodeResourceNotFound, "Resource not found: "+*arn)
}

func (a *API) tagResource(ctx context.Context, req *awsproto.Request, in *sdshape.TagResourceRequest) (*sdshape.TagResourceResponse, error) {
	arn, _, err := a.resourceTags(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, sd.Missing("tags")
	}
	tags, err := tagsIn(in.Tags)
	if err != nil {
		return nil, err
	}
	if _, err := a.apply(ctx, req, wire.TagSDResource{Meta: meta(req), ARN: arn, Tags: tags}); err != nil {
		return nil, tooManyTags(err, arn)
	}
	return &sdshape.TagResourceResponse{}, nil
}

// tooManyTags answers TooManyTagsException with its ResourceName in the
// message (the edge carries no extra members).
func tooManyTags(err error, arn string) error {
	if e, ok := mapError(err); ok && e.Code == sd.CodeTooManyTags {
		out := sdError(sd.CodeTooManyTags, e.Message)
		out.Members = map[string]string{"ResourceName": arn}
		return out
	}
	return err
}

func (a *API) untagResource(ctx context.Context, req *awsproto.Request, in *sdshape.UntagResourceRequest) (*sdshape.UntagResourceResponse, error) {
	arn, _, err := a.resourceTags(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	if in.TagKeys == nil {
		return nil, sd.Missing("tagKeys")
	}
	if len(in.TagKeys) > sd.MaxTagsPerRequest {
		return nil, sd.Constraint("[...]", "tagKeys", "Member must have length less than or equal to 200")
	}
	for i, k := range in.TagKeys {
		if k == "" || len(k) > sd.MaxTagKey {
			return nil, sd.Constraint(k, "tagKeys."+strconv.Itoa(i+1)+".member", "Member must have length between 1 and 128")
		}
	}
	if _, err := a.apply(ctx, req, wire.UntagSDResource{Meta: meta(req), ARN: arn, Keys: in.TagKeys}); err != nil {
		return nil, err
	}
	return &sdshape.UntagResourceResponse{}, nil
}

func (a *API) listTagsForResource(ctx context.Context, req *awsproto.Request, in *sdshape.ListTagsForResourceRequest) (*sdshape.ListTagsForResourceResponse, error) {
	_, tags, err := a.resourceTags(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	out := &sdshape.ListTagsForResourceResponse{Tags: []sdshape.Tag{}}
	for _, t := range tags {
		out.Tags = append(out.Tags, sdshape.Tag{Key: str(t.Key), Value: str(t.Value)})
	}
	return out, nil
}

var _ = fsm.SDMaxTags
