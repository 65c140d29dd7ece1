// Package iamshape defines the IAM request, response and
// resource shapes as they travel on the wire (AWS query protocol, PascalCase
// members), generated from the aws-sdk-go-v2 module
// github.com/aws/aws-sdk-go-v2/service/iam v1.68.0 that
// go.mod pins. zz_generated.go is not edited by hand: change
// internal/awsgen/services.go or go.mod and regenerate with
// `go generate ./internal/iamshape`.
//
// Every member carries a `query:"Name"` tag with its exact model name;
// optional members are pointers, lists are slices, timestamps are *time.Time
// (ISO 8601 on the wire). The query/XML codec that reads and writes them
// lives elsewhere. Operations lists every operation of the model, served or
// not; ErrorCodes, ErrorFaults and ErrorStatus give every error shape's wire
// code, fault ("client" or "server") and HTTP status.
//
// The package imports nothing but the standard library and does no I/O.
package iamshape

//go:generate go run berth.dev/berth/internal/awsgen iam zz_generated.go
