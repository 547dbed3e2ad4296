package awssim

import (
	"net"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/sesame-tool/sesame/steps/ses"
)

// The sim's DNS also answers for SES's SMTP hosts, as the public DNS does,
// so that sesame's check that email-smtp.<region>.amazonaws.com exists
// (steps.CheckSMTPHost) can run against it: the host of each region in the
// General Reference's SMTP endpoint table (ses.SMTPRegions) resolves to
// 127.0.0.1, unless Options.NoSMTPHost names the region; any other
// email-smtp.<label>.amazonaws.com does not exist (NXDOMAIN). Other names
// outside the account's zones stay REFUSED: the sim is not a resolver.

// smtpHostAnswer answers q if it asks for an SES SMTP host; ok is false
// for any other name.
func (s *Sim) smtpHostAnswer(m *dns.Msg, q dns.Question) (ok bool) {
	name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
	region := ses.RegionOfSMTPHost(name)
	if region == "" {
		return false
	}
	m.Authoritative = true
	exists := slices.Contains(ses.SMTPRegions(), region) && !slices.ContainsFunc(s.opts.NoSMTPHost, func(r string) bool { return strings.EqualFold(strings.TrimSpace(r), region) })
	if !exists {
		m.Rcode = dns.RcodeNameError
		m.Ns = append(m.Ns, amazonawsSOA())
		return true
	}
	if q.Qtype == dns.TypeA || q.Qtype == dns.TypeANY {
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: dns.Fqdn(name), Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(127, 0, 0, 1)})
		return true
	}
	m.Ns = append(m.Ns, amazonawsSOA()) // the name exists, the type does not
	return true
}

// amazonawsSOA is a made-up SOA for amazonaws.com's negative answers.
func amazonawsSOA() dns.RR {
	return &dns.SOA{
		Hdr: dns.RR_Header{Name: "amazonaws.com.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
		Ns:  "dns-external-master.amazon.com.", Mbox: "root.amazon.com.", Serial: 1,
		Refresh: 180, Retry: 60, Expire: 2592000, Minttl: 5,
	}
}
