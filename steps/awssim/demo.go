package awssim

import (
	"fmt"
	"strings"

	"github.com/sesame-tool/sesame/steps"
)

// What `sesame --demo` needs from the simulated account: a public hosted
// zone for whatever domain the operator types, already holding what a real
// domain holds (the inbound MX of the operator's mail provider and an apex
// TXT set with a site verification and an SPF record), so the wizard's MX
// skip and TXT merge have something to show.

// Demo records of the operator's own (fictional) mail provider.
var (
	demoMX  = []string{"10 mx1.mail-provider.example.", "20 mx2.mail-provider.example."}
	demoTXT = []string{`"site-verification=sesame-demo-4f9c2a"`, `"v=spf1 include:_spf.mail-provider.example ~all"`}
)

// EnsureDemoZone makes sure a public hosted zone encloses domain and
// returns its id (without the /hostedzone/ prefix). A zone that already
// encloses the domain is left as it is; otherwise a zone named for the
// domain is created with an MX set and an apex TXT set of its own.
func (s *Sim) EnsureDemoZone(domain string) (zoneID string, err error) {
	d, err := steps.NormalizeDomain(domain)
	if err != nil {
		return "", fmt.Errorf("demo zone for %q: %w", domain, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if z := s.publicZoneFor(d); z != nil {
		return z.ID, nil
	}
	z := s.newPublicZone(d, "sesame --demo")
	s.putSet(z, z.Name, "MX", 300, demoMX...)
	s.putSet(z, z.Name, "TXT", 300, demoTXT...)
	return z.ID, nil
}

// newPublicZone creates a public hosted zone as Route 53 does: an id, a
// delegation set of four name servers, and the apex SOA and NS sets.
// Called with s.mu held.
func (s *Sim) newPublicZone(name, comment string) *hostedZone {
	z := &hostedZone{
		ID:        "Z" + strings.ToUpper(randAlnum(s, 20)),
		Name:      fqdn(name),
		CallerRef: "sesame-sim-" + randHex(s.rng, 12),
		Comment:   comment,
		Sets:      map[rrKey]*rrset{},
	}
	tlds := []string{"com", "net", "org", "co.uk"}
	for _, tld := range tlds {
		z.NameServers = append(z.NameServers, fmt.Sprintf("ns-%d.awsdns-%02d.%s", 1+s.rng.Intn(2047), s.rng.Intn(64), tld))
	}
	ns := make([]string, len(z.NameServers))
	for i, n := range z.NameServers {
		ns[i] = n + "."
	}
	s.putSet(z, z.Name, "SOA", 900, ns[0]+" awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400")
	s.putSet(z, z.Name, "NS", 172800, ns...)
	s.r53.zones[z.ID] = z
	return z
}

// putSet writes one record set into a zone, replacing any set of that name
// and type (Route 53's UPSERT). Called with s.mu held.
func (s *Sim) putSet(z *hostedZone, name, typ string, ttl int64, values ...string) {
	name = fqdn(name)
	typ = strings.ToUpper(typ)
	z.Sets[rrKey{name, typ}] = &rrset{Name: name, Type: typ, TTL: ttl, Values: append([]string(nil), values...)}
}

// randAlnum is n random lower-case letters and digits. Called with s.mu
// held.
func randAlnum(s *Sim, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[s.rng.Intn(len(alphabet))]
	}
	return string(b)
}
