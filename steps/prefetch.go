package steps

import (
	"context"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sesame-tool/sesame/steps/awsapi"
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
		env.reads.Stop()
		env.Clients = awsapi.Unwrap(env.Clients)
	}
	env.reads = awsapi.NewReadCache()
	env.Clients = env.reads.Wrap(env.Clients)
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

	pctx, cancel := env.reads.Background(ctx)
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
func prefetchZone(ctx context.Context, r53 awsapi.Route53, answer, domain string) string {
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

// clearingPrompter forgets every cached read once the operator answers:
// AWS may have changed while sesame waited for them.
type clearingPrompter struct {
	Prompter
	c *awsapi.ReadCache
}

func (p clearingPrompter) Confirm(ctx context.Context, q Question) (bool, error) {
	defer p.c.Forget()
	return p.Prompter.Confirm(ctx, q)
}

func (p clearingPrompter) Choose(ctx context.Context, q Question, options []Option) (string, error) {
	defer p.c.Forget()
	return p.Prompter.Choose(ctx, q, options)
}

func (p clearingPrompter) Input(ctx context.Context, q Question, validate func(string) error) (string, error) {
	defer p.c.Forget()
	return p.Prompter.Input(ctx, q, validate)
}
