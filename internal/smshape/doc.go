// Package smshape defines the AWS Secrets Manager request, response and
// resource shapes as they travel on the wire (AWS JSON 1.1, PascalCase
// members), generated from the aws-sdk-go-v2 module
// github.com/aws/aws-sdk-go-v2/service/secretsmanager v1.51.0 that go.mod pins.
// zz_generated.go is not edited by hand: change internal/awsgen/services.go or
// go.mod and regenerate with `go generate ./internal/smshape`.
//
// Encoding rules are package shape's: optional members are pointers omitted
// when nil, non-boxed numbers and booleans are always emitted, lists and maps
// are omitted when nil, timestamps are epoch seconds (Timestamp is
// shape.Timestamp). Operations lists every operation of the model, served or
// not; ErrorCodes, ErrorFaults and ErrorStatus give every error shape's wire
// code, fault ("client" or "server") and HTTP status.
//
// The package does no I/O.
package smshape

//go:generate go run berth.dev/berth/internal/awsgen secretsmanager zz_generated.go
