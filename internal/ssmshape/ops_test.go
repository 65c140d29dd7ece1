package ssmshape

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"
)

// served names every operation berth's SSM API serves with its generated
// Request/Response pair: dropping an operation from internal/awsgen's
// configuration fails to compile here.
var served = map[string][2]any{
	"PutParameter":            {PutParameterRequest{}, PutParameterResponse{}},
	"GetParameter":            {GetParameterRequest{}, GetParameterResponse{}},
	"GetParameters":           {GetParametersRequest{}, GetParametersResponse{}},
	"GetParametersByPath":     {GetParametersByPathRequest{}, GetParametersByPathResponse{}},
	"DescribeParameters":      {DescribeParametersRequest{}, DescribeParametersResponse{}},
	"DeleteParameter":         {DeleteParameterRequest{}, DeleteParameterResponse{}},
	"DeleteParameters":        {DeleteParametersRequest{}, DeleteParametersResponse{}},
	"GetParameterHistory":     {GetParameterHistoryRequest{}, GetParameterHistoryResponse{}},
	"LabelParameterVersion":   {LabelParameterVersionRequest{}, LabelParameterVersionResponse{}},
	"UnlabelParameterVersion": {UnlabelParameterVersionRequest{}, UnlabelParameterVersionResponse{}},
	"AddTagsToResource":       {AddTagsToResourceRequest{}, AddTagsToResourceResponse{}},
	"RemoveTagsFromResource":  {RemoveTagsFromResourceRequest{}, RemoveTagsFromResourceResponse{}},
	"ListTagsForResource":     {ListTagsForResourceRequest{}, ListTagsForResourceResponse{}},
}

func TestServedOperationsHaveShapes(t *testing.T) {
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

func TestJSONEncoding(t *testing.T) {
	name, value := "/app/url", "v"
	r := GetParameterResponse{Parameter: &Parameter{Name: &name, Value: &value, Type: ParameterTypeString, Version: 2,
		LastModifiedDate: NewTimestamp(time.UnixMilli(1714567890123))}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Parameter":{"LastModifiedDate":1714567890.123,"Name":"/app/url","Type":"String","Value":"v","Version":2}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	for _, c := range []string{"ParameterNotFound", "ParameterAlreadyExists", "ParameterVersionNotFound", "HierarchyTypeMismatchException", "TooManyUpdates"} {
		if ErrorCodes[c] != c || ErrorStatus[c] != 400 {
			t.Errorf("%s: code %q status %d", c, ErrorCodes[c], ErrorStatus[c])
		}
	}
	if ErrorFaults["InternalServerError"] != "server" {
		t.Errorf("InternalServerError fault %q", ErrorFaults["InternalServerError"])
	}
}
