// Package ssmshape defines the AWS Systems Manager Parameter Store request, response and
// resource shapes as they travel on the wire (AWS JSON 1.1, PascalCase
// members), generated from the aws-sdk-go-v2 module
// github.com/aws/aws-sdk-go-v2/service/ssm v1.83.0 that go.mod pins.
// zz_generated.go is not edited by hand: change internal/awsgen/services.go or
// go.mod and regenerate with `go generate ./internal/ssmshape`.
//
// Encoding rules are package shape's: optional members are pointers omitted
// when nil, non-boxed numbers and booleans are always emitted, lists and maps
// are omitted when nil, timestamps are epoch seconds (Timestamp is
// shape.Timestamp). Operations lists every operation of the model, served or
// not; ErrorCodes, ErrorFaults and ErrorStatus give every error shape's wire
// code, fault ("client" or "server") and HTTP status.
//
// The package does no I/O.
package ssmshape

//go:generate go run berth.dev/berth/internal/awsgen ssm zz_generated.go
