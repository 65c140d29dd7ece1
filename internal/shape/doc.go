// Package shape defines the Amazon ECS request, response and resource shapes
// exactly as they travel on the wire (AWS JSON 1.1, lowerCamelCase members).
//
// The structs in zz_generated.go are written by internal/awsgen from the
// aws-sdk-go-v2 ECS module that go.mod pins, so that every member a real client
// can send is known and every member a real client reads can be emitted.
// They also serve as berth's stored resource model: a task definition is
// stored, replicated and returned as a shape.TaskDefinition.
//
// Encoding rules (they mirror real ECS responses):
//   - optional (boxed) members are pointers and are omitted when nil;
//   - non-boxed numbers and booleans (revision, desiredCount, cpu of a
//     container definition, agentConnected, ...) are always emitted;
//   - lists and maps are omitted when nil and emitted when empty, so "[]"
//     round-trips as "[]";
//   - timestamps are epoch seconds with millisecond precision.
//
// The package imports nothing but the standard library and does no I/O.
package shape

//go:generate go run berth.dev/berth/internal/awsgen ecs zz_generated.go
