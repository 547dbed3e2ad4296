package awssim

import (
	"fmt"
	"strings"
)

// What `sesame --demo` needs from the simulated account: a public hosted
// zone for whatever domain the operator types, already holding what a real
// domain holds (the inbound MX of the operator's mail provider and an apex
// TXT set with a site verification and an SPF record), so the wizard's MX
// skip and TXT merge have something to show. The provider also keeps an
// SPF record at mail.<domain> (some put SPF on a bounce subdomain), so an
// operator who picks the MAIL FROM label "mail" sees include:amazonses.com
// merged into it rather than a second SPF record.

// Demo records of the operator's own (fictional) mail provider.
var (
	demoMX  = []string{"10 mx1.mail-provider.example.", "20 mx2.mail-provider.example."}
	demoTXT = []string{`"site-verification=sesame-demo-4f9c2a"`, `"v=spf1 include:_spf.mail-provider.example ~all"`}
	// demoMailTXT is the SPF record at the demoMailLabel subdomain.
	demoMailTXT = []string{`"v=spf1 include:_spf.mail-provider.example ~all"`}
)

// demoMailLabel is the subdomain the demo zone keeps an SPF record at.
const demoMailLabel = "mail"

// EnsureDemoZone makes sure a public hosted zone encloses domain and
// returns its id (without the /hostedzone/ prefix). A zone that already
// encloses the domain is left as it is; otherwise a zone named for the
// domain is created with an MX set and an apex TXT set of its own, and an
// SPF record at mail.<domain>.
func (s *Sim) EnsureDemoZone(domain string) (zoneID string, err error) {
	d, err := identityDomain(strings.TrimSpace(domain))
	if err != nil {
		return "", fmt.Errorf("demo zone for %q: %w", domain, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if z := s.publicZoneFor(d); z != nil {
		return z.ID, nil
	}
	z := s.createZone(d, "sesame-demo-"+newRequestID(), "sesame --demo", nil)
	s.putSet(z, z.Name, "MX", 300, demoMX...)
	s.putSet(z, z.Name, "TXT", 300, demoTXT...)
	s.putSet(z, demoMailLabel+"."+z.Name, "TXT", 300, demoMailTXT...)
	return z.ID, nil
}

// putSet writes one record set into a zone, replacing any set of that name
// and type (Route 53's UPSERT). Called with s.mu held.
func (s *Sim) putSet(z *hostedZone, name, typ string, ttl int64, values ...string) {
	name = fqdn(name)
	typ = strings.ToUpper(typ)
	z.Sets[rrKey{name, typ}] = &rrset{Name: name, Type: typ, TTL: ttl, Values: append([]string(nil), values...)}
}
