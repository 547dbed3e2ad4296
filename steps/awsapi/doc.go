// Package awsapi is sesame's plumbing to the AWS SDK: the narrow client
// interfaces the steps call (STS, SES, Route53, IAM: exact SDK signatures,
// so the real clients, the simulator's and the test fakes all satisfy
// them), the explanation of a failed AWS call for the operator (Explain,
// Error, CallTimeoutError), the read cache that lets a run share AWS reads
// (ReadCache), and the operator's IAM policy that `sesame policy` prints.
//
// It is a leaf: it knows nothing of the wizard and never imports package
// steps. The wizard decides which reads to make ahead and when an Apply
// runs; this package only keeps and forgets the answers.
package awsapi
