// Command sesame-sim serves a simulated AWS account (SES v2, Route 53, IAM
// and STS on one loopback endpoint, optionally with authoritative DNS and
// SES-like SMTP endpoints) for sesame's tests and demos. The first line on
// stdout is the endpoint URL; stderr gets one line per API request and one
// per SMTP session event ("smtp AUTH <key id> 235", "smtp DATA 250 <id>").
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sesame-tool/sesame/steps/awssim"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "sesame-sim:", err)
		os.Exit(2)
	}
}

// config is what the flags say.
type config struct {
	listen, dns, smtp, smtps, smtpRegion, smtpCertOut, seedFile string
	opts                                                        awssim.Options
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("sesame-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var faults, deny string
	var changeDelay time.Duration
	var identityQuota int
	var disabled, noSMTPHost string
	fs.StringVar(&c.listen, "listen", "127.0.0.1:0", "address to serve the AWS APIs on (port 0 picks a free port)")
	fs.StringVar(&c.opts.AccountID, "account-id", awssim.DefaultAccountID, "the simulated 12-digit account id")
	fs.DurationVar(&c.opts.VerifyDelay, "verify-delay", 10*time.Second, "how long after its DKIM records appear an identity turns SUCCESS")
	fs.DurationVar(&c.opts.FailAfter, "fail-after", 0, "turn a PENDING identity FAILED this long after creation (0: never)")
	fs.DurationVar(&c.opts.ReviewDelay, "review-delay", 30*time.Second, "how long a production-access request stays PENDING")
	fs.DurationVar(&changeDelay, "change-delay", awssim.DefaultChangeDelay, "how long a Route 53 change stays PENDING (0: INSYNC at once)")
	fs.DurationVar(&c.opts.Latency, "latency", 0, "delay added to every request")
	fs.StringVar(&faults, "faults", "", "inject faults at rates: throttle=R,5xx=R,drop=R")
	fs.Int64Var(&c.opts.Seed, "seed", 1, "seed of the fault injection (same seed, same faults)")
	fs.StringVar(&deny, "deny", "", "answer AccessDenied for actions: iam:CreateUser,ses:GetAccount,...")
	fs.StringVar(&c.opts.HangAfter, "hang-after", "", "the first time this operation succeeds (OP#N: the Nth time), keep its effect and never answer")
	fs.BoolVar(&c.opts.Production, "production", false, "start the account out of the SES sandbox")
	fs.IntVar(&identityQuota, "identity-quota", awssim.DefaultIdentityQuota, "the most SES identities a region holds; one more is LimitExceededException (0: none)")
	fs.StringVar(&disabled, "disabled-regions", "", "opt-in regions not enabled for the account: requests signed for them fail with InvalidClientTokenId / UnrecognizedClientException")
	fs.BoolVar(&c.opts.LegacyChangeBatchErrors, "legacy-change-batch-errors", false, "answer a refused Route 53 batch in the older <InvalidChangeBatch><Messages> form, not the standard error of today")
	fs.DurationVar(&c.opts.IAMPropagation, "iam-propagation", 0, "a new IAM user answers NoSuchEntity to PutUserPolicy and CreateAccessKey this long (IAM's eventual consistency)")
	fs.DurationVar(&c.opts.KeyPropagation, "key-propagation", 0, "a new access key is refused by the SMTP endpoint (535) this long")
	fs.StringVar(&noSMTPHost, "no-smtp-host", "", "regions whose email-smtp.<region>.amazonaws.com the DNS server (--dns) says does not exist")
	fs.StringVar(&c.seedFile, "seed-file", "", "JSON file of zones, records, users and SES identities to start with")
	fs.StringVar(&c.dns, "dns", "", "also answer DNS for the hosted zones on this address (UDP and TCP)")
	fs.StringVar(&c.smtp, "smtp", "", "also serve an SES-like SMTP endpoint on this address (STARTTLS, like SES's ports 587, 2587, 25)")
	fs.StringVar(&c.smtps, "smtps", "", "also serve it with TLS from the first byte on this address (like SES's ports 465, 2465), same certificate")
	fs.StringVar(&c.smtpRegion, "smtp-region", "us-east-1", "the region whose SMTP passwords the SMTP endpoint accepts")
	fs.StringVar(&c.smtpCertOut, "smtp-cert-out", "", "write the SMTP endpoint's self-signed certificate (PEM) here")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q: sesame-sim takes flags only", fs.Args())
	}
	var err error
	if c.opts.Faults, err = awssim.ParseFaults(faults); err != nil {
		return c, err
	}
	if c.opts.Deny, err = awssim.ParseDeny(deny); err != nil {
		return c, err
	}
	c.opts.ChangeDelay = changeDelay
	c.opts.IdentityQuota = identityQuota
	c.opts.DisabledRegions = splitList(disabled)
	c.opts.NoSMTPHost = splitList(noSMTPHost)
	if identityQuota <= 0 {
		c.opts.IdentityQuota = -1 // the library's "none at all"
	}
	if changeDelay == 0 {
		c.opts.ChangeDelay = -1 // the library's "at once"
	}
	return c, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, r := range strings.Split(v, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// run serves until ctx is done. Request and SMTP session lines go to
// stderr; the endpoint URL, then "dns ADDR", "smtp ADDR" and "smtps ADDR",
// to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	c.opts.Log = stderr
	sim := awssim.New(c.opts)
	if c.seedFile != "" {
		if err := sim.LoadSeedFile(c.seedFile); err != nil {
			return err
		}
	}
	url, stop, err := sim.Start(c.listen)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintln(stdout, url)
	if c.dns != "" {
		addr, stopDNS, err := sim.ServeDNS(c.dns)
		if err != nil {
			return fmt.Errorf("serve DNS on %s: %w", c.dns, err)
		}
		defer stopDNS()
		fmt.Fprintln(stdout, "dns", addr)
	}
	for _, ep := range []struct {
		name, addr string
		implicit   bool
	}{{"smtp", c.smtp, false}, {"smtps", c.smtps, true}} {
		if ep.addr == "" {
			continue
		}
		addr, stopSMTP, err := sim.ServeSMTP(awssim.SMTPConfig{Addr: ep.addr, Region: c.smtpRegion, CertOut: c.smtpCertOut,
			ImplicitTLS: ep.implicit, Log: stderr})
		if err != nil {
			return fmt.Errorf("serve SMTP on %s (--%s): %w", ep.addr, ep.name, err)
		}
		defer stopSMTP()
		fmt.Fprintln(stdout, ep.name, addr)
	}
	<-ctx.Done()
	return nil
}
