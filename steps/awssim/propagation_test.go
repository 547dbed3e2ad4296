package awssim

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// The propagation knobs (IAM User Guide, "Troubleshoot IAM": changes are
// not always immediately visible): a new user is NoSuchEntity to
// PutUserPolicy and CreateAccessKey for IAMPropagation; a new key is
// refused over SMTP for KeyPropagation.
func TestPropagationKnobs(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	sim := New(Options{IAMPropagation: 5 * time.Second, KeyPropagation: 20 * time.Second, Now: clock})
	c := iamClient(endpoint(t, sim))
	ctx := context.Background()
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")}); err != nil {
		t.Fatal(err)
	}
	policy := &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":"*"}]}`)}
	steps := []struct {
		name    string
		advance time.Duration
		want    string
		call    func() error
	}{
		{"PutUserPolicy at once", 0, "NoSuchEntity", func() error { _, err := c.PutUserPolicy(ctx, policy); return err }},
		{"CreateAccessKey at once", 0, "NoSuchEntity", func() error {
			_, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("u")})
			return err
		}},
		{"PutUserPolicy after 5 s", 5 * time.Second, "", func() error { _, err := c.PutUserPolicy(ctx, policy); return err }},
	}
	for _, s := range steps {
		advance(s.advance)
		if got := apiCode(s.call()); got != s.want {
			t.Errorf("%s: %q, want %q", s.name, got, s.want)
		}
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("u")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(key.AccessKey.AccessKeyId)
	if _, ok := sim.SecretForKey(id); ok {
		t.Error("a key 0 s old works over SMTP; want refused for 20 s")
	}
	advance(20 * time.Second)
	if _, ok := sim.SecretForKey(id); !ok {
		t.Error("a key 20 s old is still refused")
	}
}
