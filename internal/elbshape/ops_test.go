package elbshape

import (
	"reflect"
	"slices"
	"testing"
)

// served names every operation berth's ELBv2 API serves with its generated
// Request/Response pair: dropping an operation from internal/awsgen's
// configuration fails to compile here.
var served = map[string][2]any{
	"CreateLoadBalancer":             {CreateLoadBalancerRequest{}, CreateLoadBalancerResponse{}},
	"DescribeLoadBalancers":          {DescribeLoadBalancersRequest{}, DescribeLoadBalancersResponse{}},
	"DeleteLoadBalancer":             {DeleteLoadBalancerRequest{}, DeleteLoadBalancerResponse{}},
	"DescribeLoadBalancerAttributes": {DescribeLoadBalancerAttributesRequest{}, DescribeLoadBalancerAttributesResponse{}},
	"ModifyLoadBalancerAttributes":   {ModifyLoadBalancerAttributesRequest{}, ModifyLoadBalancerAttributesResponse{}},
	"SetSubnets":                     {SetSubnetsRequest{}, SetSubnetsResponse{}},
	"SetSecurityGroups":              {SetSecurityGroupsRequest{}, SetSecurityGroupsResponse{}},
	"SetIpAddressType":               {SetIpAddressTypeRequest{}, SetIpAddressTypeResponse{}},
	"CreateTargetGroup":              {CreateTargetGroupRequest{}, CreateTargetGroupResponse{}},
	"DescribeTargetGroups":           {DescribeTargetGroupsRequest{}, DescribeTargetGroupsResponse{}},
	"ModifyTargetGroup":              {ModifyTargetGroupRequest{}, ModifyTargetGroupResponse{}},
	"DeleteTargetGroup":              {DeleteTargetGroupRequest{}, DeleteTargetGroupResponse{}},
	"DescribeTargetGroupAttributes":  {DescribeTargetGroupAttributesRequest{}, DescribeTargetGroupAttributesResponse{}},
	"ModifyTargetGroupAttributes":    {ModifyTargetGroupAttributesRequest{}, ModifyTargetGroupAttributesResponse{}},
	"RegisterTargets":                {RegisterTargetsRequest{}, RegisterTargetsResponse{}},
	"DeregisterTargets":              {DeregisterTargetsRequest{}, DeregisterTargetsResponse{}},
	"DescribeTargetHealth":           {DescribeTargetHealthRequest{}, DescribeTargetHealthResponse{}},
	"CreateListener":                 {CreateListenerRequest{}, CreateListenerResponse{}},
	"DescribeListeners":              {DescribeListenersRequest{}, DescribeListenersResponse{}},
	"ModifyListener":                 {ModifyListenerRequest{}, ModifyListenerResponse{}},
	"DeleteListener":                 {DeleteListenerRequest{}, DeleteListenerResponse{}},
	"DescribeListenerAttributes":     {DescribeListenerAttributesRequest{}, DescribeListenerAttributesResponse{}},
	"ModifyListenerAttributes":       {ModifyListenerAttributesRequest{}, ModifyListenerAttributesResponse{}},
	"AddListenerCertificates":        {AddListenerCertificatesRequest{}, AddListenerCertificatesResponse{}},
	"RemoveListenerCertificates":     {RemoveListenerCertificatesRequest{}, RemoveListenerCertificatesResponse{}},
	"DescribeListenerCertificates":   {DescribeListenerCertificatesRequest{}, DescribeListenerCertificatesResponse{}},
	"CreateRule":                     {CreateRuleRequest{}, CreateRuleResponse{}},
	"DescribeRules":                  {DescribeRulesRequest{}, DescribeRulesResponse{}},
	"ModifyRule":                     {ModifyRuleRequest{}, ModifyRuleResponse{}},
	"SetRulePriorities":              {SetRulePrioritiesRequest{}, SetRulePrioritiesResponse{}},
	"DeleteRule":                     {DeleteRuleRequest{}, DeleteRuleResponse{}},
	"AddTags":                        {AddTagsRequest{}, AddTagsResponse{}},
	"RemoveTags":                     {RemoveTagsRequest{}, RemoveTagsResponse{}},
	"DescribeTags":                   {DescribeTagsRequest{}, DescribeTagsResponse{}},
	"DescribeSSLPolicies":            {DescribeSSLPoliciesRequest{}, DescribeSSLPoliciesResponse{}},
	"DescribeAccountLimits":          {DescribeAccountLimitsRequest{}, DescribeAccountLimitsResponse{}},
	"DescribeCapacityReservation":    {DescribeCapacityReservationRequest{}, DescribeCapacityReservationResponse{}},
}

func TestServedOperationsHaveShapes(t *testing.T) {
	if len(Operations) != 51 {
		t.Errorf("the model has %d operations, want 51 (ELBv2 v1.64.0)", len(Operations))
	}
	for op, pair := range served {
		if !slices.Contains(Operations, op) {
			t.Errorf("%s is served but not an operation of the model", op)
		}
		if got := reflect.TypeOf(pair[0]).Name(); got != op+"Request" {
			t.Errorf("%s: request type %s", op, got)
		}
		if got := reflect.TypeOf(pair[1]).Name(); got != op+"Response" {
			t.Errorf("%s: response type %s", op, got)
		}
	}
}

func TestQueryTags(t *testing.T) {
	f, ok := reflect.TypeOf(DescribeTargetGroupsRequest{}).FieldByName("LoadBalancerArn")
	if !ok || f.Tag.Get("query") != "LoadBalancerArn" || f.Tag.Get("json") != "" {
		t.Errorf("LoadBalancerArn tag = %q", f.Tag)
	}
	f, _ = reflect.TypeOf(LoadBalancer{}).FieldByName("CreatedTime")
	if f.Type.String() != "*time.Time" {
		t.Errorf("LoadBalancer.CreatedTime is %s", f.Type)
	}
	if ErrorCodes["TargetGroupNotFoundException"] != "TargetGroupNotFound" || ErrorFaults["TargetGroupNotFoundException"] != "client" {
		t.Errorf("TargetGroupNotFoundException: code %q fault %q", ErrorCodes["TargetGroupNotFoundException"], ErrorFaults["TargetGroupNotFoundException"])
	}
	if ErrorStatus["TargetGroupNotFoundException"] != 400 || ErrorStatus["PriorRequestNotCompleteException"] != 429 {
		t.Errorf("ErrorStatus: %d, %d", ErrorStatus["TargetGroupNotFoundException"], ErrorStatus["PriorRequestNotCompleteException"])
	}
	if !slices.Contains(TargetHealthStateEnum("").Values(), TargetHealthStateEnumHealthy) {
		t.Errorf("TargetHealthStateEnum values %v", TargetHealthStateEnum("").Values())
	}
}
