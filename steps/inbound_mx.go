package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/sesame-tool/sesame/steps/dns"
)

// InboundMX is the "inbound-mx" step. It is skipped on purpose, every time:
// the SES console offers to publish SES's inbound MX for the domain, which
// replaces every MX record of the domain and sends its incoming mail to
// SES. A relay setup never wants that, so sesame never writes an MX at the
// domain; the step says so and lists the MX records that stay. It only
// reads.
type InboundMX struct{}

// ID returns "inbound-mx".
func (InboundMX) ID() string { return "inbound-mx" }

// Title returns the step's name.
func (InboundMX) Title() string { return "Leave the domain's MX records alone" }

// InboundMXHost is SES's inbound mail server in a region: what the SES
// console's "publish MX record" option would point the domain at.
func InboundMXHost(region string) string { return "inbound-smtp." + region + ".amazonaws.com" }

// Check reads the domain's MX records (from its hosted zone, or public DNS
// without one), publishes them as an *MXReport, and returns Skipped with
// the reason.
func (s InboundMX) Check(ctx context.Context, env *Env) (Result, error) {
	domain := strings.ToLower(env.Answers.Domain)
	res := Result{Status: StatusSkipped}
	res.Warnings = append(res.Warnings, fmt.Sprintf(
		"SES's inbound MX (10 %s) is not published on purpose: it would replace every MX record of %s and send all its incoming mail to SES, where it is not delivered to your mailboxes. sesame never writes an MX record at the domain itself.",
		InboundMXHost(env.Answers.Region), domain))
	mx, source, err := s.readMX(ctx, env, domain)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		res.Warnings = append(res.Warnings, fmt.Sprintf("could not read the MX records of %s (%v); they are not changed either way", domain, err))
		res.Detail = fmt.Sprintf("skipped on purpose: sesame never changes the MX records of %s", domain)
		return res, nil
	}
	rep := &MXReport{Domain: domain, Records: mx}
	env.Facts.MX = rep
	env.Publish(s.ID(), rep)
	switch len(mx) {
	case 0:
		res.Detail = fmt.Sprintf("skipped on purpose: %s has no MX records (per %s) and sesame adds none", domain, source)
	default:
		res.Detail = fmt.Sprintf("skipped on purpose: the %d MX records of %s stay as they are (%s)", len(mx), domain, strings.Join(mx, ", "))
	}
	return res, nil
}

// readMX returns the MX records at the domain and where they were read.
func (s InboundMX) readMX(ctx context.Context, env *Env, domain string) ([]string, string, error) {
	zone := env.Facts.Zone
	if zone == nil && env.Clients.Route53 != nil {
		zl, err := findZone(ctx, env, s.ID())
		if err != nil {
			return nil, "", err
		}
		zone = zl.Zone
	}
	if zone != nil {
		sets, err := setsAt(ctx, env.Clients.Route53, zone.ID, dns.NormName(domain))
		if err != nil {
			return nil, "", err
		}
		mx := []string{}
		for _, set := range sets {
			if set.Type == "MX" {
				for _, v := range set.Values {
					mx = append(mx, dns.NormMX(v))
				}
			}
		}
		return mx, "hosted zone " + zone.ID, nil
	}
	if env.DNS == nil {
		return nil, "", fmt.Errorf("no hosted zone and no DNS resolver to ask")
	}
	mx, err := env.DNS.Lookup(ctx, domain, "MX")
	if err != nil {
		return nil, "", err
	}
	for i := range mx {
		mx[i] = dns.NormMX(mx[i])
	}
	return mx, "public DNS", nil
}

// Plan is empty: the step never changes anything.
func (InboundMX) Plan(context.Context, *Env) (Plan, error) {
	return Plan{Summary: "nothing: the domain's MX records are never changed"}, nil
}

// Apply does nothing, on purpose.
func (InboundMX) Apply(context.Context, *Env) error { return nil }
