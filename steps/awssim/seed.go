package awssim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/sesame-tool/sesame/steps/ses"
)

// Seeding: the state a Sim starts with, from Go (tests, the demo) or from
// the JSON file `sesame-sim --seed-file` reads. Seeded records obey the same
// rules as ChangeResourceRecordSets, so a seed cannot hold what Route 53
// would refuse.

// RecordSet is one Route 53 record set as stored: Name lower case with a
// trailing dot, TXT values with their quotes.
type RecordSet struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	TTL    int64    `json:"ttl"`
	Values []string `json:"values"`
}

// Seed is the --seed-file document.
type Seed struct {
	Zones      []SeedZone     `json:"zones"`
	Users      []SeedUser     `json:"users"`
	Identities []SeedIdentity `json:"identities"`
	Accounts   []SeedAccount  `json:"accounts,omitempty"`
}

// SeedIdentity is an SES identity to start with: a domain (Easy DKIM,
// three fresh tokens) or an email address, in a region (default
// us-east-1). Status "verified" starts it verified, "failed" as SES leaves
// an identity whose records it never saw in 72 hours; empty or "pending"
// starts it pending, verifying as usual once its records are published.
type SeedIdentity struct {
	Name   string `json:"name"`
	Region string `json:"region,omitempty"`
	Status string `json:"status,omitempty"`
	// DKIM is a domain's signing: "easy" (the default), "none" (verified
	// the legacy way, DKIM NOT_STARTED, no tokens), "external" (bring your
	// own DKIM, selector sel1) or "temporary_failure".
	DKIM string `json:"dkim,omitempty"`
	// MailFrom is a custom MAIL FROM domain (a subdomain of the identity,
	// e.g. mail.example.com); MailFromStatus is pending (the default),
	// failed (SES stopped checking) or temporary_failure.
	MailFrom       string `json:"mail_from,omitempty"`
	MailFromStatus string `json:"mail_from_status,omitempty"`
}

// SeedAccount is a region's SES account state: a production-access
// review in a given state (PENDING, GRANTED, DENIED; GRANTED also lifts
// the sandbox), with its case id.
type SeedAccount struct {
	Region string `json:"region,omitempty"`
	Review string `json:"review"`
	CaseID string `json:"case_id,omitempty"`
}

// SeedZone is a hosted zone to start with. A zone with a VPC is private;
// a private zone without one gets a placeholder VPC in us-east-1.
type SeedZone struct {
	Name    string      `json:"name"`
	Private bool        `json:"private"`
	VPC     *SeedVPC    `json:"vpc,omitempty"`
	Records []RecordSet `json:"records"`
	// NameServers, for a public zone, are its delegation set (as a
	// reusable delegation set gives), so a parent zone's NS records can
	// name them; empty picks four as Route 53 does.
	NameServers []string `json:"name_servers,omitempty"`
}

// SeedVPC is the VPC a private zone is associated with.
type SeedVPC struct {
	ID     string `json:"id"`
	Region string `json:"region"`
}

// SeedUser is an IAM user to start with.
type SeedUser struct {
	Name string            `json:"name"`
	Tags map[string]string `json:"tags,omitempty"`
	// Policies are inline policies: name → policy document (a JSON object).
	Policies map[string]json.RawMessage `json:"policies,omitempty"`
	Keys     []SeedKey                  `json:"keys,omitempty"`
}

// SeedKey is an access key; an empty ID or Secret is generated.
type SeedKey struct {
	ID     string `json:"id,omitempty"`
	Secret string `json:"secret,omitempty"`
	// Created is the key's CreateDate (default: now), so a test can start
	// with a key due for rotation.
	Created time.Time `json:"created,omitzero"`
}

// LoadSeedFile applies the seed file at path.
func (s *Sim) LoadSeedFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read seed file: %w", err)
	}
	if err := s.LoadSeed(bytes.NewReader(b)); err != nil {
		return fmt.Errorf("seed file %s: %w", path, err)
	}
	return nil
}

// LoadSeed decodes a Seed document (unknown fields are an error, so a typo
// does not silently seed nothing) and applies it.
func (s *Sim) LoadSeed(r io.Reader) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var seed Seed
	if err := dec.Decode(&seed); err != nil {
		return fmt.Errorf("decode seed JSON: %w", err)
	}
	return s.ApplySeed(seed)
}

// ApplySeed creates the seed's zones, records and users. It stops at the
// first entry AWS would refuse and says which.
func (s *Sim) ApplySeed(seed Seed) error {
	for _, z := range seed.Zones {
		var v *vpc
		switch {
		case z.VPC != nil:
			v = &vpc{ID: z.VPC.ID, Region: z.VPC.Region}
		case z.Private:
			v = &placeholderVPC
		}
		id, err := s.createZoneLocked(z.Name, v)
		if err != nil {
			return err
		}
		if len(z.NameServers) > 0 {
			if err := s.setNameServers(id, z.NameServers); err != nil {
				return fmt.Errorf("zone %q: %w", z.Name, err)
			}
		}
		for _, rs := range z.Records {
			if err := s.PutRecordSet(id, rs.Name, rs.Type, rs.TTL, rs.Values...); err != nil {
				return fmt.Errorf("zone %q: %w", z.Name, err)
			}
		}
	}
	for _, u := range seed.Users {
		if err := s.seedUser(u); err != nil {
			return fmt.Errorf("user %q: %w", u.Name, err)
		}
	}
	for _, id := range seed.Identities {
		if err := s.seedIdentity(id); err != nil {
			return fmt.Errorf("identity %q: %w", id.Name, err)
		}
	}
	for _, a := range seed.Accounts {
		if err := s.seedAccount(a); err != nil {
			return fmt.Errorf("account in %q: %w", a.Region, err)
		}
	}
	return nil
}

// seedAccount starts a region's production-access review in a state:
// DENIED is how AWS answers a request it refuses (Amazon SES API v2
// Reference, ReviewDetails.Status: PENDING, FAILED, GRANTED, DENIED).
func (s *Sim) seedAccount(sa SeedAccount) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	region := sa.Region
	if region == "" {
		region = "us-east-1"
	}
	review := strings.ToUpper(sa.Review)
	switch review {
	case "PENDING", "GRANTED", "DENIED", "FAILED":
	default:
		return fmt.Errorf("review %q: use PENDING, GRANTED, DENIED or FAILED", sa.Review)
	}
	reg := s.sesRegionFor(region)
	reg.account.details = &accountDetails{MailType: "TRANSACTIONAL", WebsiteURL: "https://example.com", ContactLanguage: "EN",
		CaseID: cmp.Or(sa.CaseID, "1234567890"), review: review, requested: s.opts.Now()}
	reg.account.production = review == "GRANTED"
	return nil
}

func (s *Sim) seedIdentity(si SeedIdentity) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	region := si.Region
	if region == "" {
		region = "us-east-1"
	}
	name, typ := strings.TrimSpace(si.Name), "DOMAIN"
	if strings.Contains(name, "@") {
		if _, err := identityAddress(name); err != nil {
			return err
		}
		typ = "EMAIL_ADDRESS"
	} else {
		d, err := identityDomain(name)
		if err != nil {
			return err
		}
		name = d
	}
	reg := s.sesRegionFor(region)
	if reg.identities[identityKey(name)] != nil {
		return fmt.Errorf("already exists in %s", region)
	}
	id := s.addIdentity(reg, name, typ, "RSA_2048_BIT")
	switch si.Status {
	case "", "pending":
	case "verified":
		id.verified = id.Created
	case "failed":
		id.failed = true
	default:
		return fmt.Errorf("status %q: use pending, verified or failed", si.Status)
	}
	if typ != "DOMAIN" && (si.DKIM != "" || si.MailFrom != "") {
		return fmt.Errorf("dkim and mail_from are for domain identities")
	}
	return s.seedStates(reg, id, si)
}

func (s *Sim) seedUser(su SeedUser) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !iamNameRE.MatchString(su.Name) {
		return fmt.Errorf("not a valid IAM user name (%s)", `[\w+=,.@-]{1,64}`)
	}
	keys := make([]string, 0, len(su.Tags))
	for k := range su.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var tags []tag
	for _, k := range keys {
		tags = append(tags, tag{Key: k, Value: su.Tags[k]})
	}
	u, ae := s.createUser(su.Name, "/", tags)
	if ae != nil {
		return ae
	}
	for name, doc := range su.Policies {
		if ae := checkPolicy(string(doc), ses.PartitionOfARN(u.ARN)); ae != nil {
			return fmt.Errorf("policy %q: %w", name, ae)
		}
		u.Policies[name] = string(doc)
	}
	for _, k := range su.Keys {
		if k.ID != "" && (!strings.HasPrefix(k.ID, "AKIA") || len(k.ID) != 20) {
			return fmt.Errorf("access key id %q: want AKIA and 16 more characters", k.ID)
		}
		if k.Secret != "" && len(k.Secret) != 40 {
			return errors.New("access key secret: want 40 characters")
		}
		key, ae := s.addKey(u, k.ID, k.Secret)
		if ae != nil {
			return ae
		}
		if !k.Created.IsZero() {
			key.Created = k.Created.UTC()
		}
	}
	return nil
}

// setNameServers gives a public zone the delegation set ns, in its NS and
// SOA records too.
func (s *Sim) setNameServers(zoneID string, ns []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.r53.zones[zoneID]
	if z == nil || z.Private {
		return errors.New("name servers are for a public zone")
	}
	var names, values []string
	for _, n := range ns {
		n = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(n), "."))
		if !validName(n + ".") {
			return fmt.Errorf("name server %q: not a valid host name", n)
		}
		names, values = append(names, n), append(values, n+".")
	}
	z.NameServers = names
	z.Sets[rrKey{z.Name, "NS"}] = &rrset{Name: z.Name, Type: "NS", TTL: 172800, Values: values}
	z.Sets[rrKey{z.Name, "SOA"}] = &rrset{Name: z.Name, Type: "SOA", TTL: 900,
		Values: []string{values[0] + " awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}}
	return nil
}

// placeholderVPC is the VPC of private zones seeded without one.
var placeholderVPC = vpc{ID: "vpc-0sesamesim0000000", Region: "us-east-1"}

// CreateZone creates a hosted zone (public, or private with a placeholder
// VPC) with its SOA and NS sets, and returns its id without the
// /hostedzone/ prefix. It panics on a name Route 53 would refuse: callers
// pass literal names.
func (s *Sim) CreateZone(name string, private bool) (id string) {
	var v *vpc
	if private {
		v = &placeholderVPC
	}
	id, err := s.createZoneLocked(name, v)
	if err != nil {
		panic(err)
	}
	return id
}

func (s *Sim) createZoneLocked(name string, v *vpc) (string, error) {
	n := decodeName(name)
	if !validName(n) {
		return "", fmt.Errorf("zone %q: not a valid domain name", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.createZone(n, "sesame-sim-seed-"+newRequestID(), "", v)
	return z.ID, nil
}

// PutRecordSet writes a record set as an UPSERT would: it replaces a set of
// that name and type, and fails as Route 53 would (name outside the zone,
// CNAME beside other types or at the apex, unquoted TXT).
func (s *Sim) PutRecordSet(zoneID, name, typ string, ttl int64, values ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.r53.zones[strings.TrimPrefix(zoneID, "/hostedzone/")]
	if z == nil {
		return fmt.Errorf("put %s %s: %w", typ, name, noSuchZone(zoneID))
	}
	typ = strings.ToUpper(typ)
	if !rrTypes[typ] {
		return fmt.Errorf("put %s %s: unknown record type", typ, name)
	}
	sets, msgs := applyChanges(z, []change{{Action: "UPSERT", Set: rrset{Name: decodeName(name), Type: typ, TTL: ttl, Values: values}}})
	if len(msgs) > 0 {
		return fmt.Errorf("put %s %s: %s", typ, name, strings.Join(msgs, "; "))
	}
	z.Sets = sets
	return nil
}

// RecordSets lists a zone's record sets in Route 53's order (nil for an
// unknown zone).
func (s *Sim) RecordSets(zoneID string) []RecordSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.r53.zones[strings.TrimPrefix(zoneID, "/hostedzone/")]
	if z == nil {
		return nil
	}
	var out []RecordSet
	for _, k := range z.sortedKeys() {
		set := z.Sets[k]
		out = append(out, RecordSet{Name: set.Name, Type: set.Type, TTL: set.TTL, Values: append([]string(nil), set.Values...)})
	}
	return out
}

// Zones lists the ids of every hosted zone, in creation order.
func (s *Sim) Zones() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, z := range s.zonesInOrder(creationLess) {
		out = append(out, z.ID)
	}
	return out
}

// Users lists the IAM user names, sorted.
func (s *Sim) Users() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.iam.users))
	for _, u := range s.iam.users {
		out = append(out, u.Name)
	}
	sort.Strings(out)
	return out
}

// AccessKeys lists the access key ids of a user, oldest first (nil for an
// unknown user). Secrets are not exposed here.
func (s *Sim) AccessKeys(user string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.user(user)
	if u == nil {
		return nil
	}
	var out []string
	for _, k := range u.Keys {
		out = append(out, k.ID)
	}
	return out
}

// Start serves the Sim on addr ("127.0.0.1:0" picks a port) and returns
// its endpoint URL and a stop function that releases hung requests and
// closes the listener.
func (s *Sim) Start(addr string) (url string, stop func(), err error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	stop = func() {
		s.Release()
		_ = srv.Close()
	}
	return "http://" + l.Addr().String(), stop, nil
}
