package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"golang.org/x/net/publicsuffix"
)

// zoneLookup is the outcome of looking for the domain's hosted zone.
type zoneLookup struct {
	// Zone is nil when the account has no public zone for the domain.
	Zone     *ZoneInfo
	Warnings []string
}

// findZone finds the public hosted zone that holds domain's records: the
// zone whose name is the longest suffix of the domain, walking up its
// labels to the registrable domain. Private zones are ignored (SES checks
// public DNS). With several public zones of that name, env.Answers.ZoneID
// picks one, or the operator is asked (--zone-id). It fills env.Facts.Zone
// and env.Record.ZoneID, and reuses env.Facts.Zone within a run.
func findZone(ctx context.Context, env *Env, step string) (zoneLookup, error) {
	domain := strings.ToLower(strings.TrimSuffix(env.Answers.Domain, "."))
	if z := env.Facts.Zone; z != nil && zoneHolds(z.Name, domain) {
		return zoneLookup{Zone: z}, nil
	}
	r53 := env.Clients.Route53
	var hz *r53types.HostedZone
	if id := env.Answers.ZoneID; id != "" {
		got, err := getZone(ctx, r53, id)
		if err != nil {
			return zoneLookup{}, err
		}
		switch {
		case got.Config != nil && got.Config.PrivateZone:
			return zoneLookup{}, &InputError{Field: "zone-id", Flag: "--zone-id", Msg: fmt.Sprintf("hosted zone %s (%s) is private, and SES checks public DNS: give a public zone's id", id, aws.ToString(got.Name))}
		case !zoneHolds(aws.ToString(got.Name), domain):
			return zoneLookup{}, &InputError{Field: "zone-id", Flag: "--zone-id", Msg: fmt.Sprintf("hosted zone %s is for %s, which does not hold %s: give the id of the zone for %s or a parent of it", id, strings.TrimSuffix(aws.ToString(got.Name), "."), domain, domain)}
		}
		hz = got
	} else {
		cands, err := publicZonesFor(ctx, r53, domain)
		if err != nil {
			return zoneLookup{}, err
		}
		switch len(cands) {
		case 0:
			return zoneLookup{}, nil
		case 1:
			hz = &cands[0]
		default:
			opts := make([]Option, len(cands))
			for i, c := range cands {
				opts[i] = Option{
					Value: trimZoneID(aws.ToString(c.Id)), Label: trimZoneID(aws.ToString(c.Id)),
					Detail: fmt.Sprintf("%d record sets; %s", aws.ToInt64(c.ResourceRecordSetCount), zoneComment(c)),
				}
			}
			choice, err := env.Prompt.Choose(ctx, Question{
				ID: "zone-id", Step: step, Flag: "--zone-id",
				Title:  fmt.Sprintf("Which hosted zone for %s?", strings.TrimSuffix(aws.ToString(cands[0].Name), ".")),
				Detail: fmt.Sprintf("The account has %d public hosted zones named %s. Only the one the domain's registrar delegates to is seen by the world; sesame checks that next.", len(cands), strings.TrimSuffix(aws.ToString(cands[0].Name), ".")),
			}, opts)
			var ie *InputError
			if errors.As(err, &ie) {
				ids := make([]string, len(opts))
				for i, o := range opts {
					ids[i] = o.Value
				}
				name := strings.TrimSuffix(aws.ToString(cands[0].Name), ".")
				return zoneLookup{}, &InputError{Field: "zone-id", Flag: "--zone-id", Msg: fmt.Sprintf("the account has %d public hosted zones named %s (%s), and sesame cannot ask which one: give the one the domain's registrar delegates to with --zone-id", len(cands), name, strings.Join(ids, ", "))}
			}
			if err != nil {
				return zoneLookup{}, err
			}
			for i := range cands {
				if trimZoneID(aws.ToString(cands[i].Id)) == trimZoneID(choice) {
					hz = &cands[i]
				}
			}
			if hz == nil {
				return zoneLookup{}, &InputError{Field: "zone-id", Flag: "--zone-id", Msg: fmt.Sprintf("%q is not one of the hosted zones offered", choice)}
			}
			env.Answers.ZoneID = trimZoneID(aws.ToString(hz.Id))
		}
	}
	id := trimZoneID(aws.ToString(hz.Id))
	full, err := r53.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(id)})
	if err != nil {
		return zoneLookup{}, Explain("route53:GetHostedZone", id, err)
	}
	z := &ZoneInfo{ID: id, Name: strings.TrimSuffix(strings.ToLower(aws.ToString(hz.Name)), ".")}
	if full.DelegationSet != nil {
		for _, ns := range full.DelegationSet.NameServers {
			z.NameServers = append(z.NameServers, strings.ToLower(strings.TrimRight(ns, ".")))
		}
	}
	out := zoneLookup{Zone: z}
	if w := delegationWarning(ctx, env, z); w != "" {
		out.Warnings = append(out.Warnings, w)
	}
	env.Facts.Zone = z
	env.Record.ZoneID = id
	return out, nil
}

// getZone reads one zone by id (for --zone-id), turning "no such zone" into
// a bad answer.
func getZone(ctx context.Context, r53 Route53API, id string) (*r53types.HostedZone, error) {
	out, err := r53.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(trimZoneID(id))})
	if err != nil {
		if ErrorCode(err) == "NoSuchHostedZone" || ErrorCode(err) == "InvalidInput" {
			return nil, &InputError{Field: "zone-id", Flag: "--zone-id", Msg: fmt.Sprintf("there is no hosted zone %s in this account: check the id in the Route 53 console, or leave --zone-id out to let sesame find the zone", id)}
		}
		return nil, Explain("route53:GetHostedZone", id, err)
	}
	if out.HostedZone == nil {
		return nil, fmt.Errorf("route53:GetHostedZone on %s returned no zone", id)
	}
	return out.HostedZone, nil
}

// publicZonesFor returns the public zones of the longest name that holds
// domain: ListHostedZonesByName returns zones starting at a name, in
// reversed-label order, so each candidate name is asked for in turn, from
// the domain itself up to its registrable domain.
func publicZonesFor(ctx context.Context, r53 Route53API, domain string) ([]r53types.HostedZone, error) {
	for _, name := range zoneCandidates(domain) {
		want := name + "."
		var found []r53types.HostedZone
		in := &route53.ListHostedZonesByNameInput{DNSName: aws.String(want)}
		for page := 0; ; page++ {
			out, err := r53.ListHostedZonesByName(ctx, in)
			if err != nil {
				return nil, Explain("route53:ListHostedZonesByName", name, err)
			}
			past := false
			for _, z := range out.HostedZones {
				if normName(aws.ToString(z.Name)) != want {
					past = true
					break
				}
				if z.Config != nil && z.Config.PrivateZone {
					continue
				}
				found = append(found, z)
			}
			if past || !out.IsTruncated || out.NextDNSName == nil || page > 1000 {
				break
			}
			in = &route53.ListHostedZonesByNameInput{DNSName: out.NextDNSName, HostedZoneId: out.NextHostedZoneId}
		}
		if len(found) > 0 {
			return found, nil
		}
	}
	return nil, nil
}

// zoneCandidates returns the names a zone holding domain can have, longest
// first, down to the registrable domain (nobody has a zone for "com").
func zoneCandidates(domain string) []string {
	stop, err := publicsuffix.EffectiveTLDPlusOne(domain)
	if err != nil {
		stop = domain
	}
	var out []string
	for n := domain; ; {
		out = append(out, n)
		if n == stop {
			return out
		}
		i := strings.IndexByte(n, '.')
		if i < 0 {
			return out
		}
		n = n[i+1:]
	}
}

// zoneHolds reports whether a zone named zone holds the name domain.
func zoneHolds(zone, domain string) bool {
	z, d := normName(zone), normName(domain)
	return d == z || strings.HasSuffix(d, "."+z)
}

func zoneComment(z r53types.HostedZone) string {
	if z.Config != nil && aws.ToString(z.Config.Comment) != "" {
		return aws.ToString(z.Config.Comment)
	}
	return "no comment"
}

func trimZoneID(id string) string {
	if i := strings.LastIndex(id, "/"); i >= 0 {
		return id[i+1:]
	}
	return id
}

// delegationWarning looks up the NS records of the zone's name in public
// DNS and returns a warning when they do not name this zone's servers:
// records written into a zone the world does not ask are never seen. A
// failed lookup gives no warning (there is nothing certain to say).
func delegationWarning(ctx context.Context, env *Env, z *ZoneInfo) string {
	if env.DNS == nil || len(z.NameServers) == 0 {
		return ""
	}
	got, err := env.DNS.Lookup(ctx, z.Name, "NS")
	if err != nil || len(got) == 0 {
		return ""
	}
	for _, ns := range got {
		if slices.Contains(z.NameServers, strings.ToLower(strings.TrimRight(ns, "."))) {
			return ""
		}
	}
	return fmt.Sprintf("public DNS delegates %s to %s, not to hosted zone %s (%s): records in this zone will not be seen, and SES will not verify. Point the domain's NS records at the zone's name servers, or pick the delegated zone with --zone-id",
		z.Name, strings.Join(got, ", "), z.ID, strings.Join(z.NameServers, ", "))
}
