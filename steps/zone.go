package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/dns/route53"
)

// zoneLookup is the outcome of looking for the domain's hosted zone.
type zoneLookup struct {
	// Zone is nil when the account has no public zone for the domain.
	Zone     *dns.Zone
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
	if z := env.Facts.Zone; z != nil && dns.ZoneHolds(z.Name, domain) {
		return zoneLookup{Zone: z}, nil
	}
	r53 := env.Clients.Route53
	var hz *dns.HostedZone
	if id := env.Answers.ZoneID; id != "" {
		got, err := getZone(ctx, r53, id)
		if err != nil {
			return zoneLookup{}, err
		}
		switch {
		case got.Private:
			return zoneLookup{}, &InputError{Field: "zone-id", Flag: "--zone-id", Msg: fmt.Sprintf("hosted zone %s (%s) is private, and SES checks public DNS: give a public zone's id", id, got.Name)}
		case !dns.ZoneHolds(got.Name, domain):
			return zoneLookup{}, &InputError{Field: "zone-id", Flag: "--zone-id", Msg: fmt.Sprintf("hosted zone %s is for %s, which does not hold %s: give the id of the zone for %s or a parent of it", id, strings.TrimSuffix(got.Name, "."), domain, domain)}
		}
		hz = &got
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
					Value: c.ID, Label: c.ID,
					Detail: fmt.Sprintf("%d record sets; %s", c.RecordSets, cmp.Or(c.Comment, "no comment")),
				}
			}
			choice, err := env.Prompt.Choose(ctx, Question{
				ID: "zone-id", Step: step, Flag: "--zone-id",
				Title:  fmt.Sprintf("Which hosted zone for %s?", strings.TrimSuffix(cands[0].Name, ".")),
				Detail: fmt.Sprintf("The account has %d public hosted zones named %s. Only the one the domain's registrar delegates to is seen by the world; sesame checks that next.", len(cands), strings.TrimSuffix(cands[0].Name, ".")),
			}, opts)
			var ie *InputError
			if errors.As(err, &ie) {
				ids := make([]string, len(opts))
				for i, o := range opts {
					ids[i] = o.Value
				}
				name := strings.TrimSuffix(cands[0].Name, ".")
				return zoneLookup{}, &InputError{Field: "zone-id", Flag: "--zone-id", Msg: fmt.Sprintf("the account has %d public hosted zones named %s (%s), and sesame cannot ask which one: give the one the domain's registrar delegates to with --zone-id", len(cands), name, strings.Join(ids, ", "))}
			}
			if err != nil {
				return zoneLookup{}, err
			}
			for i := range cands {
				if cands[i].ID == trimZoneID(choice) {
					hz = &cands[i]
				}
			}
			if hz == nil {
				return zoneLookup{}, &InputError{Field: "zone-id", Flag: "--zone-id", Msg: fmt.Sprintf("%q is not one of the hosted zones offered", choice)}
			}
			env.Answers.ZoneID = hz.ID
		}
	}
	id := hz.ID
	full, err := dnsProvider(r53).Zone(ctx, id)
	if err != nil {
		return zoneLookup{}, explainRoute53(err)
	}
	z := &dns.Zone{ID: id, Name: strings.TrimSuffix(strings.ToLower(hz.Name), ".")}
	for _, ns := range full.NameServers {
		z.NameServers = append(z.NameServers, strings.ToLower(strings.TrimRight(ns, ".")))
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
func getZone(ctx context.Context, r53 awsapi.Route53, id string) (dns.HostedZone, error) {
	z, err := dnsProvider(r53).Zone(ctx, id)
	if err != nil {
		if awsapi.ErrorCode(err) == "NoSuchHostedZone" || awsapi.ErrorCode(err) == "InvalidInput" {
			return dns.HostedZone{}, &InputError{Field: "zone-id", Flag: "--zone-id", Msg: fmt.Sprintf("there is no hosted zone %s in this account: check the id in the Route 53 console, or leave --zone-id out to let sesame find the zone", id)}
		}
		return dns.HostedZone{}, explainRoute53(err)
	}
	return z, nil
}

// publicZonesFor returns the public zones of the longest name that holds
// domain, asking for each candidate name in turn, from the domain itself
// up to its registrable domain.
func publicZonesFor(ctx context.Context, r53 awsapi.Route53, domain string) ([]dns.HostedZone, error) {
	for _, name := range dns.ZoneCandidates(domain) {
		found, err := publicZonesNamed(ctx, r53, name)
		if err != nil {
			return nil, err
		}
		if len(found) > 0 {
			return found, nil
		}
	}
	return nil, nil
}

// publicZonesNamed returns the account's public zones named exactly name.
func publicZonesNamed(ctx context.Context, r53 awsapi.Route53, name string) ([]dns.HostedZone, error) {
	all, err := dnsProvider(r53).ZonesNamed(ctx, name)
	if err != nil {
		return nil, explainRoute53(err)
	}
	var found []dns.HostedZone
	for _, z := range all {
		if !z.Private {
			found = append(found, z)
		}
	}
	return found, nil
}

// dnsProvider is the DNS provider the dns step works through: Route 53,
// over the account's client (or the run's read cache in front of it).
func dnsProvider(r53 awsapi.Route53) dns.Provider { return route53.New(r53) }

// explainRoute53 explains a failed Route 53 call (a *route53.Error) to the
// operator; other errors pass through.
func explainRoute53(err error) error {
	var e *route53.Error
	if errors.As(err, &e) {
		return awsapi.Explain(e.Op, e.Resource, e.Err)
	}
	return err
}

// readSets returns the record sets at the names of the desired records
// (every type), as the provider reads them (dns.Provider.RecordSets).
func readSets(ctx context.Context, r53 awsapi.Route53, zoneID string, desired []dns.Desired) ([]dns.Record, error) {
	return readSetsBelow(ctx, r53, zoneID, "", desired)
}

// readSetsBelow is readSets that also reads the names between each desired
// name and the apex of zone (when not ""), where an NS set would delegate
// the desired name away from the zone.
func readSetsBelow(ctx context.Context, r53 awsapi.Route53, zoneID, zone string, desired []dns.Desired) ([]dns.Record, error) {
	names := make([]string, len(desired))
	for i, d := range desired {
		names[i] = d.Name
	}
	sets, err := dnsProvider(r53).RecordSets(ctx, zoneID, zone, names)
	return sets, explainRoute53(err)
}

// setsAt returns every record set named exactly name.
func setsAt(ctx context.Context, r53 awsapi.Route53, zoneID, name string) ([]dns.Record, error) {
	sets, err := dnsProvider(r53).RecordSets(ctx, zoneID, "", []string{name})
	return sets, explainRoute53(err)
}

func trimZoneID(id string) string { return route53.TrimZoneID(id) }

// delegationWarning looks up the NS records of the zone's name in public
// DNS and returns a warning when they do not name this zone's servers:
// records written into a zone the world does not ask are never seen. A
// failed lookup gives no warning (there is nothing certain to say).
func delegationWarning(ctx context.Context, env *Env, z *dns.Zone) string {
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
