package awssim

import (
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// dnsTestSim is a Sim with one public zone (example.com) and one private
// zone (internal.example), served on a loopback port.
func dnsTestSim(t *testing.T) (*sesHarness, string) {
	t.Helper()
	h := newSESHarness(t, Options{})
	h.put("example.com", "example.com", "MX", "10 mx1.mail-provider.example.", "20 mx2.mail-provider.example.")
	h.put("example.com", "example.com", "TXT", `"v=spf1 include:_spf.mail-provider.example ~all"`, `"part one " "part \"two\""`)
	h.put("example.com", "www.example.com", "A", "192.0.2.10")
	h.put("example.com", "alias.example.com", "CNAME", "www.example.com.")
	h.put("example.com", "away.example.com", "CNAME", "target.elsewhere.example.")
	h.put("example.com", "dangling.example.com", "CNAME", "nothing.example.com")
	h.put("example.com", "abc._domainkey.example.com", "CNAME", "abc.dkim.amazonses.com")
	h.put("example.com", "*.wild.example.com", "TXT", `"wildcard"`)
	h.put("example.com", "split.example.com", "TXT", `"v=DMARC1; p=none; " "rua=mailto:dmarc@example.com"`)
	h.put("example.com", "big.example.com", "TXT", bigTXT()...)
	h.put("internal.example", "internal.example", "TXT", `"private"`)
	z := h.zone("internal.example")
	h.sim.mu.Lock()
	z.Private = true
	h.sim.mu.Unlock()
	addr, stop, err := h.sim.ServeDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return h, addr
}

// bigTXT is a TXT set too large for a 512-byte UDP answer.
func bigTXT() []string {
	var out []string
	for i := range 6 {
		out = append(out, `"`+strings.Repeat(string(rune('a'+i)), 200)+`"`)
	}
	return out
}

func TestServeDNSBindsUDPAndTCPOnOnePort(t *testing.T) {
	_, addr := dnsTestSim(t)
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("bound %q, want 127.0.0.1 and a real port", addr)
	}
	// The TCP port is taken by the Sim: binding it again fails.
	if l, err := net.Listen("tcp", addr); err == nil {
		l.Close()
		t.Errorf("TCP %s is free; the DNS server should hold it", addr)
	}
}

func TestServeDNSAnswers(t *testing.T) {
	_, addr := dnsTestSim(t)
	tests := []struct {
		name, qname string
		qtype       uint16
		rcode       int
		aa          bool
		answer      []string // the RRs' data, in order
		soa         bool     // an SOA in the authority section
	}{
		{"MX at the apex", "example.com.", dns.TypeMX, dns.RcodeSuccess, true, []string{"10 mx1.mail-provider.example.", "20 mx2.mail-provider.example."}, false},
		{"TXT strings unquoted and split", "example.com.", dns.TypeTXT, dns.RcodeSuccess, true, []string{`["part one " "part \"two\""]`, `["v=spf1 include:_spf.mail-provider.example ~all"]`}, false},
		{"case-insensitive", "WWW.Example.COM.", dns.TypeA, dns.RcodeSuccess, true, []string{"192.0.2.10"}, false},
		{"CNAME chased inside the zone", "alias.example.com.", dns.TypeA, dns.RcodeSuccess, true, []string{"www.example.com.", "192.0.2.10"}, false},
		{"CNAME out of the zones", "away.example.com.", dns.TypeA, dns.RcodeSuccess, true, []string{"target.elsewhere.example."}, false},
		{"CNAME to a missing name", "dangling.example.com.", dns.TypeTXT, dns.RcodeNameError, true, []string{"nothing.example.com."}, true},
		{"DKIM CNAME asked as CNAME", "abc._domainkey.example.com.", dns.TypeCNAME, dns.RcodeSuccess, true, []string{"abc.dkim.amazonses.com."}, false},
		{"NODATA: name exists, type does not", "www.example.com.", dns.TypeTXT, dns.RcodeSuccess, true, nil, true},
		{"NODATA: empty non-terminal", "_domainkey.example.com.", dns.TypeTXT, dns.RcodeSuccess, true, nil, true},
		{"NXDOMAIN", "nope.example.com.", dns.TypeTXT, dns.RcodeNameError, true, nil, true},
		{"wildcard", "anything.wild.example.com.", dns.TypeTXT, dns.RcodeSuccess, true, []string{`["wildcard"]`}, false},
		{"outside every zone", "example.net.", dns.TypeA, dns.RcodeRefused, false, nil, false},
		{"private zones are not public DNS", "internal.example.", dns.TypeTXT, dns.RcodeRefused, false, nil, false},
	}
	for _, transport := range []string{"udp", "tcp"} {
		for _, tt := range tests {
			t.Run(transport+"/"+tt.name, func(t *testing.T) {
				c := &dns.Client{Net: transport}
				q := new(dns.Msg).SetQuestion(tt.qname, tt.qtype)
				in, _, err := c.Exchange(q, addr)
				if err != nil {
					t.Fatal(err)
				}
				if in.Rcode != tt.rcode || in.Authoritative != tt.aa {
					t.Fatalf("rcode %s AA %v, want %s AA %v", dns.RcodeToString[in.Rcode], in.Authoritative, dns.RcodeToString[tt.rcode], tt.aa)
				}
				var got []string
				for _, rr := range in.Answer {
					got = append(got, rrData(rr))
				}
				if strings.Join(got, "|") != strings.Join(tt.answer, "|") {
					t.Errorf("answer %q, want %q", got, tt.answer)
				}
				hasSOA := len(in.Ns) == 1 && in.Ns[0].Header().Rrtype == dns.TypeSOA
				if hasSOA != tt.soa {
					t.Errorf("authority %v, want SOA: %v", in.Ns, tt.soa)
				}
			})
		}
	}
}

// rrData is the data part of an RR: TXT as its Go string list (quotes
// and all), others as in a zone file.
func rrData(rr dns.RR) string {
	switch v := rr.(type) {
	case *dns.TXT:
		var q []string
		for _, s := range v.Txt {
			q = append(q, `"`+s+`"`) // miekg keeps TXT strings in escaped form
		}
		return "[" + strings.Join(q, " ") + "]"
	case *dns.MX:
		return strings.TrimPrefix(v.String(), v.Hdr.String())
	}
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

func TestServeDNSTruncatesUDPAndTCPCarriesAll(t *testing.T) {
	_, addr := dnsTestSim(t)
	q := new(dns.Msg).SetQuestion("big.example.com.", dns.TypeTXT)
	udp, _, err := (&dns.Client{Net: "udp"}).Exchange(q, addr)
	if err != nil {
		t.Fatal(err)
	}
	if !udp.Truncated {
		t.Errorf("UDP answer of %d records is not truncated", len(udp.Answer))
	}
	tcp, _, err := (&dns.Client{Net: "tcp"}).Exchange(q, addr)
	if err != nil {
		t.Fatal(err)
	}
	if tcp.Truncated || len(tcp.Answer) != 6 {
		t.Errorf("TCP: truncated %v, %d records; want all 6", tcp.Truncated, len(tcp.Answer))
	}
	for _, rr := range tcp.Answer {
		if txt := rr.(*dns.TXT).Txt; len(txt) != 1 || len(txt[0]) != 200 {
			t.Errorf("TXT %q, want one 200-character string", txt)
		}
	}
}

func TestServeDNSSeesZoneChanges(t *testing.T) {
	h, addr := dnsTestSim(t)
	q := new(dns.Msg).SetQuestion("new.example.com.", dns.TypeTXT)
	c := &dns.Client{Net: "udp"}
	in, _, err := c.Exchange(q, addr)
	if err != nil || in.Rcode != dns.RcodeNameError {
		t.Fatalf("before: %v %v, want NXDOMAIN", in, err)
	}
	h.put("example.com", "new.example.com", "TXT", `"hello"`)
	in, _, err = c.Exchange(q, addr)
	if err != nil || in.Rcode != dns.RcodeSuccess || len(in.Answer) != 1 {
		t.Fatalf("after: %v %v, want the new record", in, err)
	}
}
