// Package elb is the domain of berth's Elastic Load Balancing v2 API: name
// rules, ARNs and DNS names, health-check defaults and ranges, the
// attribute catalogs of load balancers, target groups and listeners, the
// validation of listeners, rule conditions and actions, and ELB's error
// codes with the texts clients (Terraform above all) match.
//
// The document types (Action, RuleCondition, HealthCheck, Tag, ...) use
// ELBv2's own member names as JSON names: they are stored inside log
// entries and snapshot records (package fsm/wire) as AWS's published
// contract, like the ECS shapes.
//
// The package is pure: no I/O, no clock, no randomness. Times and IDs are
// parameters; it imports only the standard library.
package elb
