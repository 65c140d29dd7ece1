// Package wire is the persisted format of berth's replicated state: the
// payload of every raft log entry (one struct per command type and
// version) and every record of a state snapshot. It is owned by package
// fsm, which converts these structs to and from the domain types of
// packages state and deploy; nothing else decides what is written to disk.
//
// Log entry: byte 0 is the command Type (bit 7, IgnorableFlag, marks a type
// a server that does not know it may skip), byte 1 the payload version,
// then the payload as JSON. Snapshot: JSON lines, a SnapshotHeader, then
// one SnapshotRecord per record, table by table.
//
// Rules (docs/architecture.md, "Log and snapshot format"):
//   - Every member has an explicit json tag. A version's encoding and
//     meaning never change: any change of its members, or of what the
//     applier does with them, is a new version, a new struct beside the
//     old one, which stays and keeps decoding forever (its Upgrade marks
//     what it did otherwise). Decoding is strict, so an older server
//     refuses an entry with a member it does not know.
//   - Type values are never reused or renumbered.
//   - Members that the applier does not read are not logged.
//   - ECS resource documents (task definitions, tasks, services, clusters,
//     container instances as DescribeX returns them) are embedded as the
//     shape types, whose encoding is ECS's own JSON wire format: AWS's
//     published, versioned contract, which adds members but never renames
//     or retypes them. Golden files (testdata) catch any change of encoding,
//     including one an SDK upgrade would bring.
//
// The package imports only shape, elbdoc (the ELBv2 documents) and the standard library.
package wire
