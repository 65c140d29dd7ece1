package smshape

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// served names every operation berth's Secrets Manager API serves with its
// generated Request/Response pair: dropping an operation from
// internal/awsgen's configuration fails to compile here.
var served = map[string][2]any{
	"CreateSecret":             {CreateSecretRequest{}, CreateSecretResponse{}},
	"GetSecretValue":           {GetSecretValueRequest{}, GetSecretValueResponse{}},
	"BatchGetSecretValue":      {BatchGetSecretValueRequest{}, BatchGetSecretValueResponse{}},
	"PutSecretValue":           {PutSecretValueRequest{}, PutSecretValueResponse{}},
	"UpdateSecret":             {UpdateSecretRequest{}, UpdateSecretResponse{}},
	"DescribeSecret":           {DescribeSecretRequest{}, DescribeSecretResponse{}},
	"ListSecrets":              {ListSecretsRequest{}, ListSecretsResponse{}},
	"DeleteSecret":             {DeleteSecretRequest{}, DeleteSecretResponse{}},
	"RestoreSecret":            {RestoreSecretRequest{}, RestoreSecretResponse{}},
	"ListSecretVersionIds":     {ListSecretVersionIdsRequest{}, ListSecretVersionIdsResponse{}},
	"UpdateSecretVersionStage": {UpdateSecretVersionStageRequest{}, UpdateSecretVersionStageResponse{}},
	"TagResource":              {TagResourceRequest{}, TagResourceResponse{}},
	"UntagResource":            {UntagResourceRequest{}, UntagResourceResponse{}},
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

// Members are PascalCase and binary values travel in base64.
func TestJSONEncoding(t *testing.T) {
	b, err := json.Marshal(GetSecretValueResponse{Name: new(string), SecretBinary: []byte{0, 255}})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, `"SecretBinary":"AP8="`) || !strings.Contains(s, `"Name":""`) || strings.Contains(s, "SecretString") {
		t.Fatalf("encoding: %s", s)
	}
	if ErrorStatus["InternalServiceError"] != 500 || ErrorStatus["ResourceNotFoundException"] != 400 {
		t.Fatalf("statuses: %v", ErrorStatus)
	}
}
