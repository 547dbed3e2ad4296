package dns

import (
	"context"
	"slices"
)

// Desired is one record set the domain needs, in presentation form: names
// and CNAME/MX targets without a trailing dot, each TXT value the text it
// carries (unquoted, not split into strings).
type Desired struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	TTL    int64    `json:"ttl"`
	Values []string `json:"values"`
	// Purpose says why: "DKIM", "MAIL FROM MX", "MAIL FROM SPF", "DMARC".
	Purpose string `json:"purpose"`
}

// Record is one record set as a provider stores it, in wire form: each
// TXT (or SPF) value is one or more quoted character-strings separated by
// spaces, with \" \\ and \ddd (three octal digits) escapes, exactly as the
// provider returned it (`"v=spf1 " "mx ~all"`); TXTQuote writes the form,
// TXTUnquote and TXTStrings read it. Other values are as stored ("10
// host.", "target."). The planner never rewrites a value it did not
// change, so a set's values go back to the provider byte for byte.
type Record struct {
	Name   string
	Type   string
	TTL    int64
	Values []string
	// Raw is the provider's own form of the set as it listed it (for
	// Route 53 a ResourceRecordSet, with its routing fields). The planner
	// passes it unchanged in a DELETE, so the provider deletes exactly
	// what it listed; nil for sets the planner makes.
	Raw any
}

// clone copies a record set, values and all.
func (r Record) clone() Record {
	r.Values = slices.Clone(r.Values)
	return r
}

// Zone is the public hosted zone that holds the domain's records.
type Zone struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	NameServers []string `json:"name_servers,omitempty"`
}

// HostedZone is one zone as the provider describes it: enough to tell
// zones of the same name apart when asking the operator which one.
type HostedZone struct {
	// ID is the zone's id without any path ("Z123", not "/hostedzone/Z123").
	ID string
	// Name is the zone's name as the provider gives it.
	Name string
	// Private is true for a zone that only a private network sees.
	Private bool
	// RecordSets is how many record sets the zone holds.
	RecordSets int64
	// Comment is the zone's comment, "" for none.
	Comment string
	// NameServers are the zone's name servers as the provider gives them;
	// only Provider.Zone fills them.
	NameServers []string
}

// Provider is a hosted-DNS service that holds zones: it finds them, lists
// their record sets and applies atomic change batches. Errors name the
// provider's operation and are the provider's own (the caller explains
// them to the operator).
type Provider interface {
	// ZonesNamed lists the zones named exactly name (with or without the
	// trailing dot), public and private.
	ZonesNamed(ctx context.Context, name string) ([]HostedZone, error)
	// Zone reads one zone by id, with its name servers.
	Zone(ctx context.Context, id string) (HostedZone, error)
	// RecordSets returns the record sets (every type) at each of names,
	// and, when apex is not "", at the names between each of them and
	// apex, where a delegation could take them out of the zone.
	RecordSets(ctx context.Context, zoneID, apex string, names []string) ([]Record, error)
	// Apply submits batch as one atomic change, all or nothing, and
	// returns the change's id and whether it is already in sync.
	Apply(ctx context.Context, zoneID, comment string, batch []Change) (id string, insync bool, err error)
	// InSync reports whether change id has reached every name server.
	InSync(ctx context.Context, id string) (bool, error)
}
