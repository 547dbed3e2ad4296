package steps

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/dns"
)

// maxDelegations bounds how many zone cuts route follows below the
// domain's zone (a delegation loop between zones must not spin).
const maxDelegations = 8

// route puts each desired record not yet planned into the zone that is
// authoritative for its name and plans each zone's part. A record whose
// name lies at or below an NS delegation in a zone goes to the hosted zone
// the delegation names (one of this account's public zones of that name
// with those name servers), or, when no zone of the account is delegated
// to, to the operator's DNS host: Route 53 would store a record below the
// cut, but no resolver would ever ask for it there.
func (s DNS) route(ctx context.Context, env *Env, st *dnsState, domain string, planned []bool) error {
	r53 := env.Clients.Route53
	type pending struct {
		zone *dns.Zone
		idx  []int
	}
	var first []int
	for i := range st.desired {
		if !planned[i] {
			first = append(first, i)
		}
	}
	queue := []pending{{st.zone, first}}
	for hops := 0; len(queue) > 0; hops++ {
		p := queue[0]
		queue = queue[1:]
		if len(p.idx) == 0 {
			continue
		}
		if hops > maxDelegations {
			return fmt.Errorf("the DNS names of %s are delegated through more than %d hosted zones (a delegation loop?): check the NS records in zone %s (%s)", domain, maxDelegations, p.zone.Name, p.zone.ID)
		}
		recs := make([]dns.Desired, len(p.idx))
		for j, i := range p.idx {
			recs[j] = st.desired[i]
		}
		sets, err := readSetsBelow(ctx, r53, p.zone.ID, p.zone.Name, recs)
		if err != nil {
			return err
		}
		cuts := zoneCuts(p.zone.Name, sets)
		var here []int
		below := map[string][]int{}
		for _, i := range p.idx {
			if cut := topCut(st.desired[i].Name, p.zone.Name, cuts); cut != "" {
				below[cut] = append(below[cut], i)
				continue
			}
			here = append(here, i)
		}
		for _, cut := range slices.Sorted(maps.Keys(below)) {
			child, why, err := delegatedZone(ctx, r53, p.zone, cut, cuts[cut])
			if err != nil {
				return err
			}
			if child != nil {
				queue = append(queue, pending{child, below[cut]})
				continue
			}
			for _, i := range below[cut] {
				d := st.desired[i]
				st.plan.Changes[i] = Change{Action: ActionManual, Resource: "dns-record", Name: strings.TrimSuffix(dns.NormName(d.Name), "."), Type: d.Type, Value: strings.Join(d.Values, "\n"), Note: why}
				st.manual = append(st.manual, d)
			}
		}
		if len(here) == 0 {
			continue
		}
		part := &zonePart{zone: p.zone}
		for _, i := range here {
			part.records = append(part.records, st.desired[i])
		}
		part.plan = PlanDNS(domain, part.records, sets)
		for j, i := range here {
			st.plan.Changes[i] = part.plan.Changes[j]
		}
		st.parts = append(st.parts, part)
	}
	return nil
}

// zoneCuts returns the NS sets below a zone's apex, by name: the names the
// zone delegates to other name servers.
func zoneCuts(zone string, sets []dns.Record) map[string][]string {
	apex := dns.NormName(zone)
	cuts := map[string][]string{}
	for _, s := range sets {
		if n := dns.NormName(s.Name); s.Type == "NS" && n != apex {
			for _, v := range s.Values {
				cuts[n] = append(cuts[n], strings.ToLower(strings.TrimRight(v, ".")))
			}
		}
	}
	return cuts
}

// topCut returns the delegated name closest to the zone's apex that is
// name or an ancestor of it, "" when the zone itself serves name.
func topCut(name, zone string, cuts map[string][]string) string {
	found := ""
	apex := dns.NormName(zone)
	for n := dns.NormName(name); n != "" && n != apex && strings.HasSuffix(n, "."+apex); n = dns.ParentName(n) {
		if _, ok := cuts[n]; ok {
			found = n
		}
	}
	return found
}

// delegatedZone finds the public hosted zone of this account that parent
// delegates cut to: named cut, with one of the name servers ns. It returns
// nil and the reason, in the operator's words, when there is none.
func delegatedZone(ctx context.Context, r53 awsapi.Route53, parent *dns.Zone, cut string, ns []string) (*dns.Zone, string, error) {
	name := strings.TrimSuffix(cut, ".")
	cands, err := publicZonesNamed(ctx, r53, name)
	if err != nil {
		return nil, "", err
	}
	var others []string
	for _, c := range cands {
		id := c.ID
		full, err := dnsProvider(r53).Zone(ctx, id)
		if err != nil {
			return nil, "", explainRoute53(err)
		}
		z := &dns.Zone{ID: id, Name: name}
		for _, s := range full.NameServers {
			z.NameServers = append(z.NameServers, strings.ToLower(strings.TrimRight(s, ".")))
		}
		for _, s := range z.NameServers {
			if slices.Contains(ns, s) {
				return z, "", nil
			}
		}
		others = append(others, id)
	}
	why := fmt.Sprintf("%s is delegated by zone %s (%s) to %s, which is not a hosted zone of this account, so a record there in Route 53 would never be served: add this record at the DNS host of %s",
		name, parent.Name, parent.ID, strings.Join(ns, ", "), name)
	if len(others) > 0 {
		why = fmt.Sprintf("%s is delegated by zone %s (%s) to %s, and the account's zone %s for it has other name servers: add this record where %s is served, or point the NS records in %s at that zone's name servers and run sesame again",
			name, parent.Name, parent.ID, strings.Join(ns, ", "), strings.Join(others, ", "), name, parent.Name)
	}
	return nil, why, nil
}

// dmarcInForce looks up the DMARC policy that already covers domain when
// it has none of its own: the organizational domain's (its registrable
// domain, as DMARC's policy discovery, RFC 7489 section 6.6.3, does), whose
// sp= (or else p=) applies to subdomains. When that policy is at least as
// strict as the one sesame would publish (d), publishing would weaken it:
// it returns skip and the change that says what applies. The policy is
// read from Route 53 when a zone of this account holds it, from public
// DNS otherwise; when neither answers, sesame publishes nothing and warns.
func dmarcInForce(ctx context.Context, env *Env, zone *dns.Zone, domain string, d dns.Desired) (ch Change, skip bool, warn string, err error) {
	org, perr := publicsuffix.EffectiveTLDPlusOne(domain)
	if perr != nil || org == domain || len(d.Values) == 0 {
		return Change{}, false, "", nil
	}
	own := "_dmarc." + domain
	if dns.ZoneHolds(zone.Name, own) {
		sets, err := setsAt(ctx, env.Clients.Route53, zone.ID, dns.NormName(own))
		if err != nil {
			return Change{}, false, "", err
		}
		for _, s := range sets {
			if s.Type == "CNAME" || (s.Type == "TXT" && slices.ContainsFunc(s.Values, func(v string) bool { return dns.IsDMARC(dns.TXTUnquote(v)) })) {
				return Change{}, false, "", nil // the domain's own policy: the planner keeps it
			}
		}
	}
	ch = Change{Action: ActionUnchanged, Resource: "dns-record", Name: own, Type: "TXT", Value: strings.Join(d.Values, "\n")}
	rec, where, lerr := orgDMARC(ctx, env, zone, org)
	if lerr != nil {
		ch.Note = fmt.Sprintf("not published: the DMARC policy of %s, which covers %s, could not be read (%v), and a policy published here could be weaker than it; run sesame again, or add the record yourself once you know", org, domain, lerr)
		return ch, true, ch.Note, nil
	}
	if rec == "" {
		return Change{}, false, "", nil
	}
	tags := dns.DMARCTags(rec)
	applied, tag := tags["sp"], "sp"
	if dns.DMARCStrength(applied) < 0 {
		applied, tag = tags["p"], "p"
	}
	if dns.DMARCStrength(applied) < 0 {
		return Change{}, false, "", nil // not a usable policy: none applies
	}
	ours := dns.DMARCTags(d.Values[0])["p"]
	if dns.DMARCStrength(applied) < dns.DMARCStrength(ours) {
		return Change{}, false, "", nil
	}
	ch.Current = fmt.Sprintf("%s (%s)", rec, "_dmarc."+org)
	ch.Note = fmt.Sprintf("DMARC policy %s already applies to %s through _dmarc.%s (%s, %s=%s for subdomains); sesame's p=%s would weaken it, so nothing is published", applied, domain, org, where, tag, applied, ours)
	return ch, true, "", nil
}

// orgDMARC returns the DMARC record at _dmarc.<org> ("" for none) and
// where it was read.
func orgDMARC(ctx context.Context, env *Env, zone *dns.Zone, org string) (rec, where string, err error) {
	name := "_dmarc." + org
	zoneID := ""
	if dns.ZoneHolds(zone.Name, name) {
		zoneID = zone.ID
	} else if cands, err := publicZonesNamed(ctx, env.Clients.Route53, org); err != nil {
		return "", "", err
	} else if len(cands) == 1 {
		zoneID = cands[0].ID
	}
	if zoneID != "" {
		sets, err := setsAt(ctx, env.Clients.Route53, zoneID, dns.NormName(name))
		if err != nil {
			return "", "", err
		}
		cname := false
		for _, s := range sets {
			if s.Type == "CNAME" {
				cname = true
			}
			if s.Type == "TXT" {
				for _, v := range s.Values {
					if v := dns.TXTUnquote(v); dns.IsDMARC(v) {
						return v, "hosted zone " + zoneID, nil
					}
				}
			}
		}
		if !cname {
			return "", "", nil
		}
		// A CNAME hands the policy to a DMARC service: public DNS follows it.
	}
	if env.DNS == nil {
		return "", "", fmt.Errorf("no DNS resolver to ask for %s", name)
	}
	vals, err := env.DNS.Lookup(ctx, name, "TXT")
	if err != nil {
		return "", "", err
	}
	for _, v := range vals {
		if dns.IsDMARC(v) {
			return v, "public DNS", nil
		}
	}
	return "", "", nil
}
