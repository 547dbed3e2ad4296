// Package awssim is a simulated AWS account for sesame's tests and its
// --demo mode: one loopback HTTP endpoint that serves IAM, STS, Route 53 and
// SES v2 with the real wire protocols (awsQuery, restXml, restJson1) and
// error shapes, so the real AWS SDK clients (and the AWS CLI) talk to it
// unchanged. It keeps the AWS semantics sesame's safety depends on, and has
// knobs (latency, faults, denials, hangs) that tests use to break things on
// purpose. cmd/sesame-sim serves it as a program.
package awssim
