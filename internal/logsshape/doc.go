// Package logsshape defines the Amazon CloudWatch Logs request, response and
// resource shapes as they travel on the wire (AWS JSON 1.1, camelCase
// members), generated from the aws-sdk-go-v2 module
// github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs that go.mod pins.
// zz_generated.go is not edited by hand: change internal/awsgen/services.go or
// go.mod and regenerate with `go generate ./internal/logsshape`.
//
// CloudWatch Logs' times are epoch milliseconds in Long members (*int64),
// not timestamps. Optional members are pointers omitted when nil, lists and
// maps are omitted when nil. Operations lists every operation of the model,
// served or not; ErrorCodes, ErrorFaults and ErrorStatus give every error
// shape's wire code, fault ("client" or "server") and HTTP status.
//
// The package does no I/O.
package logsshape

//go:generate go run berth.dev/berth/internal/awsgen logs zz_generated.go
