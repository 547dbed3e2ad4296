package stepstest

import (
	"context"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// FakeSTS answers GetCallerIdentity for one fixed caller. It satisfies
// awsapi.STS. Safe for concurrent use.
type FakeSTS struct {
	mu      sync.Mutex
	log     callLog
	account string
	arn     string
}

// NewFakeSTS returns an STS whose caller is arn in account, for example
// ("123456789012", "arn:aws:iam::123456789012:user/ops") or the root user
// ("arn:aws:iam::123456789012:root").
func NewFakeSTS(account, arn string) *FakeSTS {
	return &FakeSTS{log: newCallLog(), account: account, arn: arn}
}

// Calls returns how many times op ("GetCallerIdentity") was called.
func (f *FakeSTS) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.log.calls[op]
}

// FailNext makes the next call of op return err (queued). The call is
// counted but has no effect.
func (f *FakeSTS) FailNext(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log.failNext(op, err)
}

// GetCallerIdentity returns the caller given to NewFakeSTS.
func (f *FakeSTS) GetCallerIdentity(_ context.Context, _ *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.log.enter("GetCallerIdentity"); err != nil {
		return nil, err
	}
	userID := "AIDAFAKE" + strings.ToUpper(f.account)
	if strings.HasSuffix(f.arn, ":root") {
		userID = f.account // STS gives the account id as the root user's UserId
	}
	return &sts.GetCallerIdentityOutput{
		Account: aws.String(f.account),
		Arn:     aws.String(f.arn),
		UserId:  aws.String(userID),
	}, nil
}
