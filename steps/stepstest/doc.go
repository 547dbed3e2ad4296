// Package stepstest holds stateful in-memory fakes of the AWS APIs the
// steps call (awsapi.STS, awsapi.SES, awsapi.IAM, awsapi.Route53),
// for unit tests of the steps and of the front ends.
//
// Each fake keeps state like the real service (a CreateUser followed by a
// GetUser finds the user; a second CreateUser fails with the SDK's typed
// EntityAlreadyExistsException), counts calls per operation (Calls,
// Mutations) so a test can prove that a second Apply changed nothing, and
// can fail the next call of an operation with any error (FailNext), for
// example AccessDenied("iam:CreateUser"). Before, where a fake has it, runs
// between the count and the effect of a call, so a test can act as a
// concurrent writer (another process creating the same user).
//
// The fakes never import package steps, so the steps' own (internal) tests
// can use them without an import cycle.
package stepstest

import (
	"fmt"

	"github.com/aws/smithy-go"
)

// AccessDenied returns the error AWS sends when the caller lacks action
// ("iam:CreateUser"): a smithy.GenericAPIError with code AccessDenied and
// AWS's message, which is what the SDK returns for this unmodeled error.
func AccessDenied(action string) error {
	return &smithy.GenericAPIError{
		Code:    "AccessDenied",
		Message: fmt.Sprintf("User: arn:aws:iam::123456789012:user/operator is not authorized to perform: %s because no identity-based policy allows the %s action", action, action),
		Fault:   smithy.FaultClient,
	}
}

// callLog counts calls per operation and holds queued injected errors. The
// owning fake guards it with its own mutex.
type callLog struct {
	calls map[string]int
	fail  map[string][]error
}

func newCallLog() callLog {
	return callLog{calls: map[string]int{}, fail: map[string][]error{}}
}

// enter counts a call of op and returns the next injected error, if any.
func (c *callLog) enter(op string) error {
	c.calls[op]++
	if q := c.fail[op]; len(q) > 0 {
		c.fail[op] = q[1:]
		return q[0]
	}
	return nil
}

// failNext queues err for the next call of op.
func (c *callLog) failNext(op string, err error) {
	c.fail[op] = append(c.fail[op], err)
}

// sum adds the counts of ops.
func (c *callLog) sum(ops ...string) int {
	n := 0
	for _, op := range ops {
		n += c.calls[op]
	}
	return n
}
