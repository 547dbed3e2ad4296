package awssim

import (
	"sort"
	"strings"
	"time"
)

// The account's data. Every field is guarded by Sim.mu.

// iamUser is one IAM user.
type iamUser struct {
	Name, ID, ARN, Path string
	Created             time.Time
	Tags                []tag
	// Policies are inline policies, name → JSON document (not encoded).
	Policies map[string]string
	Keys     []*accessKey
}

type tag struct{ Key, Value string }

// accessKey is one IAM access key.
type accessKey struct {
	ID, Secret, Status, User string
	Created                  time.Time
	LastUsed                 time.Time // zero: never used
	LastUsedService          string
	LastUsedRegion           string
}

type iamState struct {
	users map[string]*iamUser   // by lower-case name (IAM names are case-insensitive)
	keys  map[string]*accessKey // by access key id
}

func (s *Sim) initIAM() {
	s.iam = iamState{users: map[string]*iamUser{}, keys: map[string]*accessKey{}}
}

// keyOwner is the user name owning an access key, or "".
func (st *iamState) keyOwner(id string) string {
	if k := st.keys[id]; k != nil {
		return k.User
	}
	return ""
}

// SecretForKey returns the secret of an access key the Sim issued, for the
// SMTP endpoint's AUTH check. Inactive or deleted keys are not found.
func (s *Sim) SecretForKey(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.iam.keys[id]
	if k == nil || k.Status != "Active" {
		return "", false
	}
	// A new key works over SMTP only after KeyPropagation: until then
	// SES does not know it (535), as users of new keys report for up to
	// tens of seconds.
	if s.opts.KeyPropagation > 0 && s.opts.Now().Sub(k.Created) < s.opts.KeyPropagation {
		return "", false
	}
	return k.Secret, true
}

// hostedZone is one Route 53 hosted zone.
type hostedZone struct {
	ID string // "Z..." without the /hostedzone/ prefix
	// Seq is the creation order (ListHostedZones lists zones in it).
	Seq       int
	Name      string // lower case, trailing dot
	CallerRef string
	Comment   string
	Private   bool
	VPCs      []vpc
	// NameServers are the delegation set of a public zone.
	NameServers []string
	Sets        map[rrKey]*rrset
}

type vpc struct{ ID, Region string }

type rrKey struct{ Name, Type string }

// rrset is one resource record set. Values are as Route 53 stores them:
// TXT values keep their quotes, MX is "10 host.", names end in a dot.
type rrset struct {
	Name   string
	Type   string
	TTL    int64
	Values []string
}

// r53Change is one submitted change batch.
type r53Change struct {
	ID        string
	Submitted time.Time
	Comment   string
	// Polled is set once GetChange has reported the change PENDING, so a
	// poller always sees PENDING first, as with AWS.
	Polled bool
}

type r53State struct {
	zones   map[string]*hostedZone // by id
	changes map[string]*r53Change  // by id
	// seq numbers zones in creation order.
	seq int
}

func (s *Sim) initRoute53() {
	s.r53 = r53State{zones: map[string]*hostedZone{}, changes: map[string]*r53Change{}}
}

// fqdn lower-cases a DNS name and gives it a trailing dot.
func fqdn(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// publicZoneFor returns the public hosted zone whose name is the longest
// suffix of name, or nil. With several public zones of one name, the one
// created first wins (it is the one a registrar delegation would name).
// Called with s.mu held.
func (s *Sim) publicZoneFor(name string) *hostedZone {
	name = fqdn(name)
	var best *hostedZone
	ids := make([]string, 0, len(s.r53.zones))
	for id := range s.r53.zones {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		z := s.r53.zones[id]
		if z.Private {
			continue
		}
		if name != z.Name && !strings.HasSuffix(name, "."+z.Name) {
			continue
		}
		if best == nil || len(z.Name) > len(best.Name) {
			best = z
		}
	}
	return best
}

// lookupPublic answers what public DNS would for (name, type): the values
// of the set in the public zone that serves name (following delegations),
// and whether the name has any record at all (NODATA vs NXDOMAIN). A CNAME
// at the name is returned for any type, as a resolver would. Called with
// s.mu held.
func (s *Sim) lookupPublic(name, typ string) (values []string, zone *hostedZone, nameExists bool) {
	name = fqdn(name)
	z, _, _ := s.servingZoneFor(name)
	if z == nil {
		return nil, nil, false
	}
	for k := range z.Sets {
		if k.Name == name {
			nameExists = true
			break
		}
	}
	if set := z.Sets[rrKey{name, strings.ToUpper(typ)}]; set != nil {
		return append([]string(nil), set.Values...), z, true
	}
	if set := z.Sets[rrKey{name, "CNAME"}]; set != nil {
		return append([]string(nil), set.Values...), z, true
	}
	return nil, z, nameExists
}
