// Package ecsapi serves the Amazon ECS API: AWS JSON 1.1 over HTTP, exactly as
// the AWS CLI, the SDKs and Terraform speak it.
//
// A request is POST / (any base path) with X-Amz-Target
// "AmazonEC2ContainerServiceV20141113.<Operation>" and a JSON body. The
// package describes ECS to the protocol edge (API.Service, an
// awsproto.Service): the edge routes the request, reads the body
// (bounded), authenticates the caller (SigV4 for "ecs") and writes the
// answer; ECS's operations decode the body strictly into the operation's
// shape (unknown members and wrong types are errors), validate it, and
// then either read a state snapshot or propose a command to the
// replicated state machine and return its result. API.ServeHTTP serves
// ECS alone on an edge of its own (tests).
//
// Answers: 200 with the operation's output shape, or 400 with
// {"__type": "<Exception>", "message": "..."} for anything the caller can
// fix, and 500 ServerException only for real server faults. Every answer
// carries x-amzn-RequestId.
//
// Invariants:
//   - A request that fails validation proposes nothing: bad input never
//     changes state.
//   - Reads come from one immutable snapshot, so a response is consistent
//     with itself.
//   - Writes return only after the command is committed and applied.
//   - No member is accepted and then ignored: a member berth does not honour
//     is refused at the call that sets it (UnsupportedFeatureException naming
//     it, unsupported.go) unless it is stored only, as docs/ecs-fields.md
//     says. testdata/fields.txt classifies every member of every request.
package ecsapi
