package route53

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/dns"
)

// Error is a failed Route 53 call: Op is the IAM action
// ("route53:ListResourceRecordSets"), Resource what it was about (a zone
// id, a zone name, a change id), Err the SDK's error.
type Error struct {
	Op, Resource string
	Err          error
}

func (e *Error) Error() string { return e.Op + " on " + e.Resource + ": " + e.Err.Error() }

// Unwrap returns the SDK's error.
func (e *Error) Unwrap() error { return e.Err }

// Provider is the Route 53 dns.Provider.
type Provider struct {
	api awsapi.Route53
}

var _ dns.Provider = (*Provider)(nil)

// New returns the Provider over api.
func New(api awsapi.Route53) *Provider { return &Provider{api: api} }

// TrimZoneID drops the "/hostedzone/" (or "/change/") path Route 53 puts
// before ids in some answers.
func TrimZoneID(id string) string {
	if i := strings.LastIndex(id, "/"); i >= 0 {
		return id[i+1:]
	}
	return id
}

// ZonesNamed lists the zones named exactly name, paging through
// ListHostedZonesByName (which lists from name on, in reversed-label
// order) until the first other name.
func (p *Provider) ZonesNamed(ctx context.Context, name string) ([]dns.HostedZone, error) {
	want := dns.NormName(name)
	var found []dns.HostedZone
	in := &r53.ListHostedZonesByNameInput{DNSName: aws.String(want)}
	for page := 0; page < 1000; page++ {
		out, err := p.api.ListHostedZonesByName(ctx, in)
		if err != nil {
			return nil, &Error{"route53:ListHostedZonesByName", name, err}
		}
		for _, z := range out.HostedZones {
			if dns.NormName(aws.ToString(z.Name)) != want {
				return found, nil
			}
			found = append(found, hostedZone(z))
		}
		if !out.IsTruncated || out.NextDNSName == nil {
			break
		}
		in = &r53.ListHostedZonesByNameInput{DNSName: out.NextDNSName, HostedZoneId: out.NextHostedZoneId}
	}
	return found, nil
}

func hostedZone(z r53types.HostedZone) dns.HostedZone {
	h := dns.HostedZone{ID: TrimZoneID(aws.ToString(z.Id)), Name: aws.ToString(z.Name), RecordSets: aws.ToInt64(z.ResourceRecordSetCount)}
	if z.Config != nil {
		h.Private = z.Config.PrivateZone
		h.Comment = aws.ToString(z.Config.Comment)
	}
	return h
}

// Zone reads one zone by id ("Z123" or "/hostedzone/Z123"), with its name
// servers. A zone that does not exist is an *Error (Resource: id as given)
// whose Err has the code NoSuchHostedZone (or InvalidInput for an id of
// the wrong shape).
func (p *Provider) Zone(ctx context.Context, id string) (dns.HostedZone, error) {
	out, err := p.api.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(TrimZoneID(id))})
	if err != nil {
		return dns.HostedZone{}, &Error{"route53:GetHostedZone", id, err}
	}
	if out.HostedZone == nil {
		return dns.HostedZone{}, &Error{"route53:GetHostedZone", id, errNoZone}
	}
	h := hostedZone(*out.HostedZone)
	if out.DelegationSet != nil {
		h.NameServers = slices.Clone(out.DelegationSet.NameServers)
	}
	return h, nil
}

type noZoneError struct{}

func (noZoneError) Error() string { return "the answer holds no zone" }

var errNoZone error = noZoneError{}

// RecordSets returns the record sets (every type) at names, and, when
// apex is not "", at the names between each of them and apex, where an NS
// set would delegate the name away from the zone. Names that share an
// underscored parent (the DKIM CNAMEs under _domainkey: RFC 8552 scoping
// nodes, which hold few records) are read with one listing of that
// parent's subtree instead of one per name, so the three DKIM CNAMEs cost
// one Route 53 call, and their parent comes with it; the others are read
// one listing each, from the name.
func (p *Provider) RecordSets(ctx context.Context, zoneID, apex string, want []string) ([]dns.Record, error) {
	var names []string
	add := func(n string) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, n := range want {
		add(dns.NormName(n))
	}
	if apex != "" {
		top := dns.NormName(apex)
		for _, n := range want {
			for a := dns.ParentName(dns.NormName(n)); a != "" && a != top && strings.HasSuffix(a, "."+top); a = dns.ParentName(a) {
				add(a)
			}
		}
	}
	children := map[string][]string{}
	for _, name := range names {
		if p := dns.ParentName(name); strings.HasPrefix(p, "_") {
			children[p] = append(children[p], name)
		}
	}
	var out []dns.Record
	listed := map[string]bool{}
	for _, name := range names {
		if len(children[name]) > 1 {
			// An underscored parent read with its children's listing.
			keep := append(slices.Clone(children[name]), name)
			if !listed[name] {
				listed[name] = true
				sets, err := p.setsUnder(ctx, zoneID, name, keep)
				if err != nil {
					return nil, err
				}
				out = append(out, sets...)
			}
			continue
		}
		parent := dns.ParentName(name)
		if kids := children[parent]; len(kids) > 1 {
			if !listed[parent] {
				listed[parent] = true
				keep := kids
				if slices.Contains(names, parent) {
					keep = append(slices.Clone(kids), parent)
				}
				sets, err := p.setsUnder(ctx, zoneID, parent, keep)
				if err != nil {
					return nil, err
				}
				out = append(out, sets...)
			}
			continue
		}
		sets, err := p.setsAt(ctx, zoneID, name)
		if err != nil {
			return nil, err
		}
		out = append(out, sets...)
	}
	return out, nil
}

// setsUnder returns the record sets named one of names, all below parent,
// with one listing that starts at parent. Route 53 lists names with their
// labels reversed ("com.example._domainkey.abc"), so the subtree comes in
// one run; the listing stops at the first name whose reversed form does
// not start with the parent's, which is past the subtree whether names
// are compared label by label or as whole strings.
func (p *Provider) setsUnder(ctx context.Context, zoneID, parent string, names []string) ([]dns.Record, error) {
	prefix := reversedLabels(parent)
	return p.listFrom(ctx, zoneID, parent, func(n string) (keep, more bool) {
		if !strings.HasPrefix(reversedLabels(n), prefix) {
			return false, false
		}
		return slices.Contains(names, n), true
	})
}

// listFrom pages through ListResourceRecordSets from start, in Route 53's
// order, keeping the sets visit keeps, until visit says there are no more
// of interest or the listing ends. visit gets each set's normalised name.
func (p *Provider) listFrom(ctx context.Context, zoneID, start string, visit func(name string) (keep, more bool)) ([]dns.Record, error) {
	var out []dns.Record
	in := &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID), StartRecordName: aws.String(start)}
	for page := 0; page < 1000; page++ {
		resp, err := p.api.ListResourceRecordSets(ctx, in)
		if err != nil {
			return nil, &Error{"route53:ListResourceRecordSets", zoneID, err}
		}
		for _, s := range resp.ResourceRecordSets {
			keep, more := visit(dns.NormName(aws.ToString(s.Name)))
			if !more {
				return out, nil
			}
			if keep {
				out = append(out, Record(s))
			}
		}
		if !resp.IsTruncated || resp.NextRecordName == nil {
			return out, nil
		}
		in = &r53.ListResourceRecordSetsInput{
			HostedZoneId: aws.String(zoneID), StartRecordName: resp.NextRecordName,
			StartRecordType: resp.NextRecordType, StartRecordIdentifier: resp.NextRecordIdentifier,
		}
	}
	return out, nil
}

// reversedLabels is a name with its labels reversed, "com.example.www",
// the order ListResourceRecordSets lists in.
func reversedLabels(name string) string {
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	slices.Reverse(labels)
	return strings.Join(labels, ".")
}

// setsAt returns every record set named exactly name. The list starts at
// name and runs on in Route 53's order, so it stops at the first other name.
func (p *Provider) setsAt(ctx context.Context, zoneID, name string) ([]dns.Record, error) {
	return p.listFrom(ctx, zoneID, name, func(n string) (keep, more bool) {
		return n == name, n == name
	})
}

// Record is a Route 53 record set in the neutral form: values exactly as
// Route 53 returned them, and the set itself (a copy) in Raw, so a DELETE
// of it carries every routing field Route 53 listed.
func Record(s r53types.ResourceRecordSet) dns.Record {
	s.ResourceRecords = slices.Clone(s.ResourceRecords)
	r := dns.Record{Name: aws.ToString(s.Name), Type: string(s.Type), TTL: aws.ToInt64(s.TTL), Raw: s}
	for _, v := range s.ResourceRecords {
		r.Values = append(r.Values, aws.ToString(v.Value))
	}
	return r
}

// Changes is a neutral change batch in Route 53's form. A DELETE of a set
// Route 53 listed is that set as listed; anything else is built from the
// record's name, type, TTL and values.
func Changes(batch []dns.Change) []r53types.Change {
	out := make([]r53types.Change, 0, len(batch))
	for _, c := range batch {
		ch := r53types.Change{Action: r53types.ChangeAction(c.Op)}
		if raw, ok := c.Set.Raw.(r53types.ResourceRecordSet); ok && c.Op == dns.OpDelete {
			raw.ResourceRecords = slices.Clone(raw.ResourceRecords)
			ch.ResourceRecordSet = &raw
		} else {
			rs := &r53types.ResourceRecordSet{Name: aws.String(c.Set.Name), Type: r53types.RRType(c.Set.Type), TTL: aws.Int64(c.Set.TTL)}
			for _, v := range c.Set.Values {
				rs.ResourceRecords = append(rs.ResourceRecords, r53types.ResourceRecord{Value: aws.String(v)})
			}
			ch.ResourceRecordSet = rs
		}
		out = append(out, ch)
	}
	return out
}

// Apply submits batch to the zone as one ChangeResourceRecordSets call
// (atomic: all or nothing) and returns the change id and whether Route 53
// already reports it INSYNC. A refused batch is an *Error whose Err is an
// *InvalidChangeBatch with Route 53's reasons.
func (p *Provider) Apply(ctx context.Context, zoneID, comment string, batch []dns.Change) (string, bool, error) {
	out, err := p.api.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zoneID),
		ChangeBatch: &r53types.ChangeBatch{
			Comment: aws.String(comment),
			Changes: Changes(batch),
		},
	})
	if err != nil {
		return "", false, &Error{"route53:ChangeResourceRecordSets", zoneID, err}
	}
	if out.ChangeInfo == nil {
		return "", false, nil
	}
	return TrimZoneID(aws.ToString(out.ChangeInfo.Id)), out.ChangeInfo.Status == r53types.ChangeStatusInsync, nil
}

// InSync asks GetChange whether change id has reached every Route 53 name
// server.
func (p *Provider) InSync(ctx context.Context, id string) (bool, error) {
	out, err := p.api.GetChange(ctx, &r53.GetChangeInput{Id: aws.String(id)})
	if err != nil {
		return false, &Error{"route53:GetChange", id, err}
	}
	return out.ChangeInfo != nil && out.ChangeInfo.Status == r53types.ChangeStatusInsync, nil
}
