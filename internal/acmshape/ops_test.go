package acmshape

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"
)

// served names every operation berth's ACM API serves with its generated
// Request/Response pair: dropping an operation from internal/awsgen's
// configuration fails to compile here.
var served = map[string][2]any{
	"ImportCertificate":         {ImportCertificateRequest{}, ImportCertificateResponse{}},
	"DescribeCertificate":       {DescribeCertificateRequest{}, DescribeCertificateResponse{}},
	"GetCertificate":            {GetCertificateRequest{}, GetCertificateResponse{}},
	"ListCertificates":          {ListCertificatesRequest{}, ListCertificatesResponse{}},
	"DeleteCertificate":         {DeleteCertificateRequest{}, DeleteCertificateResponse{}},
	"AddTagsToCertificate":      {AddTagsToCertificateRequest{}, AddTagsToCertificateResponse{}},
	"RemoveTagsFromCertificate": {RemoveTagsFromCertificateRequest{}, RemoveTagsFromCertificateResponse{}},
	"ListTagsForCertificate":    {ListTagsForCertificateRequest{}, ListTagsForCertificateResponse{}},
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
	arn := "arn:aws:acm:us-east-1:123456789012:certificate/x"
	d := DescribeCertificateResponse{Certificate: &CertificateDetail{
		CertificateArn: &arn,
		Status:         CertificateStatusIssued,
		CreatedAt:      NewTimestamp(time.UnixMilli(1714567890123)),
	}}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Certificate":{"CertificateArn":"` + arn + `","CreatedAt":1714567890.123,"Status":"ISSUED"}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if ErrorCodes["ResourceNotFoundException"] != "ResourceNotFoundException" {
		t.Errorf("ResourceNotFoundException code %q", ErrorCodes["ResourceNotFoundException"])
	}
	if ErrorStatus["AccessDeniedException"] != 403 || ErrorFaults["InternalServerException"] != "server" {
		t.Errorf("AccessDeniedException status %d, InternalServerException fault %q", ErrorStatus["AccessDeniedException"], ErrorFaults["InternalServerException"])
	}
}
