package steps

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/ses"
)

// Prefetch makes a resumed run (and `sesame status`) wait about three round
// trips instead of one per call. It installs a read cache for this run
// around env.Clients and starts, in the background, the AWS reads the
// steps' Checks are going to make: the independent ones at once (caller
// identity, SES account, the IAM user with its keys and policy, the SES
// identity, the hosted zone lookup), and the dependent ones as soon as
// their inputs arrive (the zone's details and its apex records once the
// zone is known, the DKIM record sets once the zone and the tokens are).
// It returns at once; each Check then finds its reads answered or in
// flight, and waits only for those.
//
// The prefetch calls the same helpers with the same inputs as the steps,
// so it warms exactly the reads they make; a read it guessed wrong (an
// answer changed by the saved setup, say) is a wasted call, never a wrong
// answer, because the cache is keyed by the whole request.
//
// Cached reads serve Check and Plan only; Apply always reads AWS (the
// Runner marks it), and what it reads replaces what the cache held. A
// write through the clients empties the cache of its service, so a Check
// after a change sees the change, and every answer to a question empties
// it all, so no cached read outlives a wait for the operator. Calling
// Prefetch again (a retried run) starts over.
func Prefetch(ctx context.Context, env *Env) {
	if env.reads != nil {
		env.reads.stopPrefetch()
		env.Clients = unwrapClients(env.Clients)
	}
	env.reads = newReadCache()
	env.Clients = env.reads.wrap(env.Clients)
	if p, ok := env.Prompt.(clearingPrompter); ok {
		env.Prompt = p.Prompter
	}
	if env.Prompt != nil {
		env.Prompt = clearingPrompter{Prompter: env.Prompt, c: env.reads}
	}
	c := env.Clients

	// A snapshot of the answers: the steps may normalise them while the
	// prefetch runs, and it must not race with them.
	a := *env.Answers
	domain := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(a.Domain), "."))
	region := strings.ToLower(strings.TrimSpace(a.Region))
	user := a.SMTPUser
	if user == "" && domain != "" {
		user = DefaultSMTPUserName(domain)
	}

	pctx, cancel := context.WithCancel(ctx)
	env.reads.mu.Lock()
	env.reads.cancel = cancel
	env.reads.mu.Unlock()
	var wg sync.WaitGroup
	goRead := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	// Once every read has answered, the prefetch's context is done with;
	// the waiter starts after the first reads are counted in.
	defer func() { go func() { wg.Wait(); cancel() }() }()

	if c.STS != nil {
		goRead(func() { _, _ = c.STS.GetCallerIdentity(pctx, &sts.GetCallerIdentityInput{}) })
	}
	if c.SES != nil {
		goRead(func() { _, _ = c.SES.GetAccount(pctx, &sesv2.GetAccountInput{}) })
	}
	if domain == "" || ValidateRegion(region) != nil {
		return // the steps fail on their own; nothing to guess
	}
	if c.IAM != nil && ValidateUserName(user) == nil {
		goRead(func() { _, _ = c.IAM.GetUser(pctx, &iam.GetUserInput{UserName: aws.String(user)}) })
		goRead(func() {
			_, _ = c.IAM.GetUserPolicy(pctx, &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(ses.SMTPUserPolicyName(region))})
		})
		goRead(func() { _, _ = c.IAM.ListAccessKeys(pctx, &iam.ListAccessKeysInput{UserName: aws.String(user)}) })
	}
	tokens := make(chan []string, 1)
	if c.SES != nil {
		goRead(func() {
			out, err := c.SES.GetEmailIdentity(pctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(a.Domain)})
			if err != nil || out.DkimAttributes == nil {
				close(tokens)
				return
			}
			tokens <- out.DkimAttributes.Tokens
		})
	} else {
		close(tokens)
	}
	if c.Route53 == nil {
		return
	}
	goRead(func() {
		zoneID := prefetchZone(pctx, c.Route53, a.ZoneID, domain)
		if zoneID == "" {
			return
		}
		goRead(func() { _, _ = c.Route53.GetHostedZone(pctx, &route53.GetHostedZoneInput{Id: aws.String(zoneID)}) })
		goRead(func() { _, _ = setsAt(pctx, c.Route53, zoneID, dns.NormName(domain)) })
		toks, ok := <-tokens
		if !ok || len(toks) == 0 {
			return
		}
		desired := DesiredRecords(domain, region, &IdentityInfo{Domain: domain, Tokens: toks}, a.MailFrom, a.DMARC)
		_, _ = readSets(pctx, c.Route53, zoneID, desired)
	})
}

// prefetchZone finds the zone id the dns step will settle on without
// asking anything: the --zone-id answer, or the one public zone of the
// domain's name. Several candidates need the operator: "" then.
func prefetchZone(ctx context.Context, r53 Route53API, answer, domain string) string {
	if answer != "" {
		if _, err := getZone(ctx, r53, answer); err != nil {
			return ""
		}
		return trimZoneID(answer)
	}
	cands, err := publicZonesFor(ctx, r53, domain)
	if err != nil || len(cands) != 1 {
		return ""
	}
	return cands[0].ID
}

// readCache is one run's memo of AWS reads, keyed by operation and the
// whole request, kept per service. Concurrent callers of the same read
// share one call: a Check that asks while the prefetch's call is in flight
// waits for it.
type readCache struct {
	mu sync.Mutex
	// entries are the reads by service ("iam", "ses", ...), then by key.
	// A write replaces its service's map, so a call in flight across a
	// write lands in the old map and answers no later caller.
	entries map[string]map[string]*cacheEntry
	// applying is true while a step's Apply runs: every read goes to AWS.
	applying bool
	// cancel stops the prefetch's calls still in flight.
	cancel context.CancelFunc
}

type cacheEntry struct {
	done chan struct{}
	out  any
	err  error
}

func newReadCache() *readCache { return &readCache{entries: map[string]map[string]*cacheEntry{}} }

// clear forgets the reads of service ("" for every service): what AWS
// said before a write is not what it says after.
func (c *readCache) clear(service string) {
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

// stopPrefetch cancels the prefetch's calls still in flight and forgets
// every read, so none of them can answer a later Check.
func (c *readCache) stopPrefetch() {
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

// beginApply is called by the Runner before a step's Apply: until
// endApply every read goes to AWS, and its answer replaces the cached one.
func (c *readCache) beginApply() { c.setApplying(true) }

// endApply lets the Checks share reads again.
func (c *readCache) endApply() { c.setApplying(false) }

func (c *readCache) setApplying(on bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.applying = on
	c.mu.Unlock()
}

// service's map of reads, made on first use; c.mu must be held.
func (c *readCache) service(name string) map[string]*cacheEntry {
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
func cachedRead[I, O any](ctx context.Context, c *readCache, op string, in I, optFns int, call func(context.Context) (O, error)) (O, error) {
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
func write[O any](c *readCache, service string, call func() (O, error)) (O, error) {
	c.clear(service)
	defer c.clear(service)
	return call()
}

// clearingPrompter forgets every cached read once the operator answers:
// AWS may have changed while sesame waited for them.
type clearingPrompter struct {
	Prompter
	c *readCache
}

func (p clearingPrompter) Confirm(ctx context.Context, q Question) (bool, error) {
	defer p.c.clear("")
	return p.Prompter.Confirm(ctx, q)
}

func (p clearingPrompter) Choose(ctx context.Context, q Question, options []Option) (string, error) {
	defer p.c.clear("")
	return p.Prompter.Choose(ctx, q, options)
}

func (p clearingPrompter) Input(ctx context.Context, q Question, validate func(string) error) (string, error) {
	defer p.c.clear("")
	return p.Prompter.Input(ctx, q, validate)
}

func (c *readCache) wrap(cl Clients) Clients {
	out := cl
	if cl.STS != nil {
		out.STS = &cachedSTS{STSAPI: cl.STS, c: c}
	}
	if cl.SES != nil {
		out.SES = &cachedSES{SESAPI: cl.SES, c: c}
	}
	if cl.Route53 != nil {
		out.Route53 = &cachedRoute53{Route53API: cl.Route53, c: c}
	}
	if cl.IAM != nil {
		out.IAM = &cachedIAM{IAMAPI: cl.IAM, c: c}
	}
	return out
}

func unwrapClients(cl Clients) Clients {
	if x, ok := cl.STS.(*cachedSTS); ok {
		cl.STS = x.STSAPI
	}
	if x, ok := cl.SES.(*cachedSES); ok {
		cl.SES = x.SESAPI
	}
	if x, ok := cl.Route53.(*cachedRoute53); ok {
		cl.Route53 = x.Route53API
	}
	if x, ok := cl.IAM.(*cachedIAM); ok {
		cl.IAM = x.IAMAPI
	}
	return cl
}

type cachedSTS struct {
	STSAPI
	c *readCache
}

func (x *cachedSTS) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, o ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return cachedRead(ctx, x.c, "sts:GetCallerIdentity", in, len(o), func(ctx context.Context) (*sts.GetCallerIdentityOutput, error) {
		return x.STSAPI.GetCallerIdentity(ctx, in, o...)
	})
}

type cachedSES struct {
	SESAPI
	c *readCache
}

func (x *cachedSES) GetAccount(ctx context.Context, in *sesv2.GetAccountInput, o ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error) {
	return cachedRead(ctx, x.c, "ses:GetAccount", in, len(o), func(ctx context.Context) (*sesv2.GetAccountOutput, error) {
		return x.SESAPI.GetAccount(ctx, in, o...)
	})
}

func (x *cachedSES) GetEmailIdentity(ctx context.Context, in *sesv2.GetEmailIdentityInput, o ...func(*sesv2.Options)) (*sesv2.GetEmailIdentityOutput, error) {
	return cachedRead(ctx, x.c, "ses:GetEmailIdentity", in, len(o), func(ctx context.Context) (*sesv2.GetEmailIdentityOutput, error) {
		return x.SESAPI.GetEmailIdentity(ctx, in, o...)
	})
}

func (x *cachedSES) PutAccountDetails(ctx context.Context, in *sesv2.PutAccountDetailsInput, o ...func(*sesv2.Options)) (*sesv2.PutAccountDetailsOutput, error) {
	return write(x.c, "ses", func() (*sesv2.PutAccountDetailsOutput, error) { return x.SESAPI.PutAccountDetails(ctx, in, o...) })
}

func (x *cachedSES) CreateEmailIdentity(ctx context.Context, in *sesv2.CreateEmailIdentityInput, o ...func(*sesv2.Options)) (*sesv2.CreateEmailIdentityOutput, error) {
	return write(x.c, "ses", func() (*sesv2.CreateEmailIdentityOutput, error) { return x.SESAPI.CreateEmailIdentity(ctx, in, o...) })
}

func (x *cachedSES) DeleteEmailIdentity(ctx context.Context, in *sesv2.DeleteEmailIdentityInput, o ...func(*sesv2.Options)) (*sesv2.DeleteEmailIdentityOutput, error) {
	return write(x.c, "ses", func() (*sesv2.DeleteEmailIdentityOutput, error) { return x.SESAPI.DeleteEmailIdentity(ctx, in, o...) })
}

func (x *cachedSES) PutEmailIdentityMailFromAttributes(ctx context.Context, in *sesv2.PutEmailIdentityMailFromAttributesInput, o ...func(*sesv2.Options)) (*sesv2.PutEmailIdentityMailFromAttributesOutput, error) {
	return write(x.c, "ses", func() (*sesv2.PutEmailIdentityMailFromAttributesOutput, error) {
		return x.SESAPI.PutEmailIdentityMailFromAttributes(ctx, in, o...)
	})
}

type cachedRoute53 struct {
	Route53API
	c *readCache
}

func (x *cachedRoute53) ListHostedZonesByName(ctx context.Context, in *route53.ListHostedZonesByNameInput, o ...func(*route53.Options)) (*route53.ListHostedZonesByNameOutput, error) {
	return cachedRead(ctx, x.c, "route53:ListHostedZonesByName", in, len(o), func(ctx context.Context) (*route53.ListHostedZonesByNameOutput, error) {
		return x.Route53API.ListHostedZonesByName(ctx, in, o...)
	})
}

func (x *cachedRoute53) GetHostedZone(ctx context.Context, in *route53.GetHostedZoneInput, o ...func(*route53.Options)) (*route53.GetHostedZoneOutput, error) {
	return cachedRead(ctx, x.c, "route53:GetHostedZone", in, len(o), func(ctx context.Context) (*route53.GetHostedZoneOutput, error) {
		return x.Route53API.GetHostedZone(ctx, in, o...)
	})
}

func (x *cachedRoute53) ListResourceRecordSets(ctx context.Context, in *route53.ListResourceRecordSetsInput, o ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error) {
	return cachedRead(ctx, x.c, "route53:ListResourceRecordSets", in, len(o), func(ctx context.Context) (*route53.ListResourceRecordSetsOutput, error) {
		return x.Route53API.ListResourceRecordSets(ctx, in, o...)
	})
}

func (x *cachedRoute53) ChangeResourceRecordSets(ctx context.Context, in *route53.ChangeResourceRecordSetsInput, o ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	return write(x.c, "route53", func() (*route53.ChangeResourceRecordSetsOutput, error) {
		return x.Route53API.ChangeResourceRecordSets(ctx, in, o...)
	})
}

type cachedIAM struct {
	IAMAPI
	c *readCache
}

func (x *cachedIAM) GetUser(ctx context.Context, in *iam.GetUserInput, o ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	return cachedRead(ctx, x.c, "iam:GetUser", in, len(o), func(ctx context.Context) (*iam.GetUserOutput, error) {
		return x.IAMAPI.GetUser(ctx, in, o...)
	})
}

func (x *cachedIAM) GetUserPolicy(ctx context.Context, in *iam.GetUserPolicyInput, o ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error) {
	return cachedRead(ctx, x.c, "iam:GetUserPolicy", in, len(o), func(ctx context.Context) (*iam.GetUserPolicyOutput, error) {
		return x.IAMAPI.GetUserPolicy(ctx, in, o...)
	})
}

func (x *cachedIAM) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, o ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	return cachedRead(ctx, x.c, "iam:ListAccessKeys", in, len(o), func(ctx context.Context) (*iam.ListAccessKeysOutput, error) {
		return x.IAMAPI.ListAccessKeys(ctx, in, o...)
	})
}

func (x *cachedIAM) CreateUser(ctx context.Context, in *iam.CreateUserInput, o ...func(*iam.Options)) (*iam.CreateUserOutput, error) {
	return write(x.c, "iam", func() (*iam.CreateUserOutput, error) { return x.IAMAPI.CreateUser(ctx, in, o...) })
}

func (x *cachedIAM) TagUser(ctx context.Context, in *iam.TagUserInput, o ...func(*iam.Options)) (*iam.TagUserOutput, error) {
	return write(x.c, "iam", func() (*iam.TagUserOutput, error) { return x.IAMAPI.TagUser(ctx, in, o...) })
}

func (x *cachedIAM) PutUserPolicy(ctx context.Context, in *iam.PutUserPolicyInput, o ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error) {
	return write(x.c, "iam", func() (*iam.PutUserPolicyOutput, error) { return x.IAMAPI.PutUserPolicy(ctx, in, o...) })
}

func (x *cachedIAM) CreateAccessKey(ctx context.Context, in *iam.CreateAccessKeyInput, o ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error) {
	return write(x.c, "iam", func() (*iam.CreateAccessKeyOutput, error) { return x.IAMAPI.CreateAccessKey(ctx, in, o...) })
}

func (x *cachedIAM) DeleteAccessKey(ctx context.Context, in *iam.DeleteAccessKeyInput, o ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error) {
	return write(x.c, "iam", func() (*iam.DeleteAccessKeyOutput, error) { return x.IAMAPI.DeleteAccessKey(ctx, in, o...) })
}
