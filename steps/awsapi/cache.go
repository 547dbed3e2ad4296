package awsapi

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// ReadCache is one run's memo of AWS reads, keyed by operation and the
// whole request, kept per service. Concurrent callers of the same read
// share one call: a Check that asks while the prefetch's call is in flight
// waits for it. Clients wrapped by Wrap read through it; a write through
// them forgets its service's reads. A nil *ReadCache caches nothing.
type ReadCache struct {
	mu sync.Mutex
	// entries are the reads by service ("iam", "ses", ...), then by key.
	// A write replaces its service's map, so a call in flight across a
	// write lands in the old map and answers no later caller.
	entries map[string]map[string]*cacheEntry
	// applying is true while a step's Apply runs: every read goes to AWS.
	applying bool
	// cancel stops the background reads still in flight.
	cancel context.CancelFunc
}

type cacheEntry struct {
	done chan struct{}
	out  any
	err  error
}

// NewReadCache returns an empty cache.
func NewReadCache() *ReadCache { return &ReadCache{entries: map[string]map[string]*cacheEntry{}} }

// Background returns a context for reads made ahead of the calls that will
// want them (a prefetch), and its cancel func: Stop cancels it too.
func (c *ReadCache) Background(ctx context.Context) (context.Context, context.CancelFunc) {
	bctx, cancel := context.WithCancel(ctx)
	c.mu.Lock()
	c.cancel = cancel
	c.mu.Unlock()
	return bctx, cancel
}

// Forget forgets every read: what AWS said before a wait (for the
// operator, say) may not be what it says after.
func (c *ReadCache) Forget() { c.clear("") }

// clear forgets the reads of service ("" for every service): what AWS
// said before a write is not what it says after.
func (c *ReadCache) clear(service string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	if service == "" {
		c.entries = map[string]map[string]*cacheEntry{}
	} else {
		delete(c.entries, service)
	}
	c.mu.Unlock()
}

// Stop cancels the background reads still in flight and forgets every
// read, so none of them can answer a later call.
func (c *ReadCache) Stop() {
	if c == nil {
		return
	}
	c.mu.Lock()
	cancel := c.cancel
	c.cancel = nil
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	c.clear("")
}

// BeginApply is called by the Runner before a step's Apply: until
// EndApply every read goes to AWS, and its answer replaces the cached one.
func (c *ReadCache) BeginApply() { c.setApplying(true) }

// EndApply lets the Checks share reads again.
func (c *ReadCache) EndApply() { c.setApplying(false) }

func (c *ReadCache) setApplying(on bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.applying = on
	c.mu.Unlock()
}

// service's map of reads, made on first use; c.mu must be held.
func (c *ReadCache) service(name string) map[string]*cacheEntry {
	m := c.entries[name]
	if m == nil {
		m = map[string]*cacheEntry{}
		c.entries[name] = m
	}
	return m
}

// cachedRead answers op(in) from the cache, joining a call in flight, or
// makes the call and keeps its answer (an AWS error too: "no such user" is
// an answer). During an Apply it always makes the call, and keeps the
// answer for the Checks after. A call cut short by a cancelled context is
// not kept, and a caller whose own context is still live makes the call
// itself.
func cachedRead[I, O any](ctx context.Context, c *ReadCache, op string, in I, optFns int, call func(context.Context) (O, error)) (O, error) {
	if c == nil || optFns > 0 {
		return call(ctx)
	}
	b, err := json.Marshal(in)
	if err != nil {
		return call(ctx)
	}
	svc, _, _ := strings.Cut(op, ":")
	key := op + " " + string(b)
	c.mu.Lock()
	m := c.service(svc)
	if e, ok := m[key]; ok && !c.applying {
		c.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			var zero O
			return zero, ctx.Err()
		}
		if isContextErr(e.err) && ctx.Err() == nil {
			return call(ctx)
		}
		out, _ := e.out.(O)
		return out, e.err
	}
	e := &cacheEntry{done: make(chan struct{})}
	m[key] = e
	c.mu.Unlock()

	out, err := call(ctx)
	e.out, e.err = out, err
	close(e.done)
	if isContextErr(err) {
		c.mu.Lock()
		if m[key] == e {
			delete(m, key)
		}
		c.mu.Unlock()
	}
	return out, err
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// write runs a mutating call with the service's reads forgotten before
// and after it.
func write[O any](c *ReadCache, service string, call func() (O, error)) (O, error) {
	c.clear(service)
	defer c.clear(service)
	return call()
}

// Wrap returns cl with every client reading through c.
func (c *ReadCache) Wrap(cl Clients) Clients {
	out := cl
	if cl.STS != nil {
		out.STS = &cachedSTS{STS: cl.STS, c: c}
	}
	if cl.SES != nil {
		out.SES = &cachedSES{SES: cl.SES, c: c}
	}
	if cl.Route53 != nil {
		out.Route53 = &cachedRoute53{Route53: cl.Route53, c: c}
	}
	if cl.IAM != nil {
		out.IAM = &cachedIAM{IAM: cl.IAM, c: c}
	}
	return out
}

// Unwrap returns the clients Wrap wrapped (cl itself where it wrapped
// nothing).
func Unwrap(cl Clients) Clients {
	if x, ok := cl.STS.(*cachedSTS); ok {
		cl.STS = x.STS
	}
	if x, ok := cl.SES.(*cachedSES); ok {
		cl.SES = x.SES
	}
	if x, ok := cl.Route53.(*cachedRoute53); ok {
		cl.Route53 = x.Route53
	}
	if x, ok := cl.IAM.(*cachedIAM); ok {
		cl.IAM = x.IAM
	}
	return cl
}

type cachedSTS struct {
	STS
	c *ReadCache
}

func (x *cachedSTS) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, o ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return cachedRead(ctx, x.c, "sts:GetCallerIdentity", in, len(o), func(ctx context.Context) (*sts.GetCallerIdentityOutput, error) {
		return x.STS.GetCallerIdentity(ctx, in, o...)
	})
}

type cachedSES struct {
	SES
	c *ReadCache
}

func (x *cachedSES) GetAccount(ctx context.Context, in *sesv2.GetAccountInput, o ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error) {
	return cachedRead(ctx, x.c, "ses:GetAccount", in, len(o), func(ctx context.Context) (*sesv2.GetAccountOutput, error) {
		return x.SES.GetAccount(ctx, in, o...)
	})
}

func (x *cachedSES) GetEmailIdentity(ctx context.Context, in *sesv2.GetEmailIdentityInput, o ...func(*sesv2.Options)) (*sesv2.GetEmailIdentityOutput, error) {
	return cachedRead(ctx, x.c, "ses:GetEmailIdentity", in, len(o), func(ctx context.Context) (*sesv2.GetEmailIdentityOutput, error) {
		return x.SES.GetEmailIdentity(ctx, in, o...)
	})
}

func (x *cachedSES) PutAccountDetails(ctx context.Context, in *sesv2.PutAccountDetailsInput, o ...func(*sesv2.Options)) (*sesv2.PutAccountDetailsOutput, error) {
	return write(x.c, "ses", func() (*sesv2.PutAccountDetailsOutput, error) { return x.SES.PutAccountDetails(ctx, in, o...) })
}

func (x *cachedSES) CreateEmailIdentity(ctx context.Context, in *sesv2.CreateEmailIdentityInput, o ...func(*sesv2.Options)) (*sesv2.CreateEmailIdentityOutput, error) {
	return write(x.c, "ses", func() (*sesv2.CreateEmailIdentityOutput, error) { return x.SES.CreateEmailIdentity(ctx, in, o...) })
}

func (x *cachedSES) DeleteEmailIdentity(ctx context.Context, in *sesv2.DeleteEmailIdentityInput, o ...func(*sesv2.Options)) (*sesv2.DeleteEmailIdentityOutput, error) {
	return write(x.c, "ses", func() (*sesv2.DeleteEmailIdentityOutput, error) { return x.SES.DeleteEmailIdentity(ctx, in, o...) })
}

func (x *cachedSES) PutEmailIdentityMailFromAttributes(ctx context.Context, in *sesv2.PutEmailIdentityMailFromAttributesInput, o ...func(*sesv2.Options)) (*sesv2.PutEmailIdentityMailFromAttributesOutput, error) {
	return write(x.c, "ses", func() (*sesv2.PutEmailIdentityMailFromAttributesOutput, error) {
		return x.SES.PutEmailIdentityMailFromAttributes(ctx, in, o...)
	})
}

func (x *cachedSES) PutEmailIdentityDkimSigningAttributes(ctx context.Context, in *sesv2.PutEmailIdentityDkimSigningAttributesInput, o ...func(*sesv2.Options)) (*sesv2.PutEmailIdentityDkimSigningAttributesOutput, error) {
	return write(x.c, "ses", func() (*sesv2.PutEmailIdentityDkimSigningAttributesOutput, error) {
		return x.SES.PutEmailIdentityDkimSigningAttributes(ctx, in, o...)
	})
}

type cachedRoute53 struct {
	Route53
	c *ReadCache
}

func (x *cachedRoute53) ListHostedZonesByName(ctx context.Context, in *route53.ListHostedZonesByNameInput, o ...func(*route53.Options)) (*route53.ListHostedZonesByNameOutput, error) {
	return cachedRead(ctx, x.c, "route53:ListHostedZonesByName", in, len(o), func(ctx context.Context) (*route53.ListHostedZonesByNameOutput, error) {
		return x.Route53.ListHostedZonesByName(ctx, in, o...)
	})
}

func (x *cachedRoute53) GetHostedZone(ctx context.Context, in *route53.GetHostedZoneInput, o ...func(*route53.Options)) (*route53.GetHostedZoneOutput, error) {
	return cachedRead(ctx, x.c, "route53:GetHostedZone", in, len(o), func(ctx context.Context) (*route53.GetHostedZoneOutput, error) {
		return x.Route53.GetHostedZone(ctx, in, o...)
	})
}

func (x *cachedRoute53) ListResourceRecordSets(ctx context.Context, in *route53.ListResourceRecordSetsInput, o ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error) {
	return cachedRead(ctx, x.c, "route53:ListResourceRecordSets", in, len(o), func(ctx context.Context) (*route53.ListResourceRecordSetsOutput, error) {
		return x.Route53.ListResourceRecordSets(ctx, in, o...)
	})
}

func (x *cachedRoute53) ChangeResourceRecordSets(ctx context.Context, in *route53.ChangeResourceRecordSetsInput, o ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	return write(x.c, "route53", func() (*route53.ChangeResourceRecordSetsOutput, error) {
		return x.Route53.ChangeResourceRecordSets(ctx, in, o...)
	})
}

type cachedIAM struct {
	IAM
	c *ReadCache
}

func (x *cachedIAM) GetUser(ctx context.Context, in *iam.GetUserInput, o ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	return cachedRead(ctx, x.c, "iam:GetUser", in, len(o), func(ctx context.Context) (*iam.GetUserOutput, error) {
		return x.IAM.GetUser(ctx, in, o...)
	})
}

func (x *cachedIAM) GetUserPolicy(ctx context.Context, in *iam.GetUserPolicyInput, o ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error) {
	return cachedRead(ctx, x.c, "iam:GetUserPolicy", in, len(o), func(ctx context.Context) (*iam.GetUserPolicyOutput, error) {
		return x.IAM.GetUserPolicy(ctx, in, o...)
	})
}

func (x *cachedIAM) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, o ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	return cachedRead(ctx, x.c, "iam:ListAccessKeys", in, len(o), func(ctx context.Context) (*iam.ListAccessKeysOutput, error) {
		return x.IAM.ListAccessKeys(ctx, in, o...)
	})
}

func (x *cachedIAM) CreateUser(ctx context.Context, in *iam.CreateUserInput, o ...func(*iam.Options)) (*iam.CreateUserOutput, error) {
	return write(x.c, "iam", func() (*iam.CreateUserOutput, error) { return x.IAM.CreateUser(ctx, in, o...) })
}

func (x *cachedIAM) TagUser(ctx context.Context, in *iam.TagUserInput, o ...func(*iam.Options)) (*iam.TagUserOutput, error) {
	return write(x.c, "iam", func() (*iam.TagUserOutput, error) { return x.IAM.TagUser(ctx, in, o...) })
}

func (x *cachedIAM) PutUserPolicy(ctx context.Context, in *iam.PutUserPolicyInput, o ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error) {
	return write(x.c, "iam", func() (*iam.PutUserPolicyOutput, error) { return x.IAM.PutUserPolicy(ctx, in, o...) })
}

func (x *cachedIAM) CreateAccessKey(ctx context.Context, in *iam.CreateAccessKeyInput, o ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error) {
	return write(x.c, "iam", func() (*iam.CreateAccessKeyOutput, error) { return x.IAM.CreateAccessKey(ctx, in, o...) })
}

func (x *cachedIAM) UpdateAccessKey(ctx context.Context, in *iam.UpdateAccessKeyInput, o ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error) {
	return write(x.c, "iam", func() (*iam.UpdateAccessKeyOutput, error) { return x.IAM.UpdateAccessKey(ctx, in, o...) })
}

func (x *cachedIAM) DeleteAccessKey(ctx context.Context, in *iam.DeleteAccessKeyInput, o ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error) {
	return write(x.c, "iam", func() (*iam.DeleteAccessKeyOutput, error) { return x.IAM.DeleteAccessKey(ctx, in, o...) })
}
