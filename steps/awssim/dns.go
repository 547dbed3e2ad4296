package awssim

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// ServeDNS answers DNS authoritatively for every public hosted zone of the
// account, on UDP and TCP at the same address, so a resolver pointed at it
// sees what Route 53 holds. addr "127.0.0.1:0" picks a free port that both
// transports bind. stop shuts both servers down.
func (s *Sim) ServeDNS(addr string) (boundAddr string, stop func(), err error) {
	pc, l, err := listenUDPAndTCP(addr)
	if err != nil {
		return "", nil, err
	}
	h := dns.HandlerFunc(s.handleDNS)
	udp := &dns.Server{PacketConn: pc, Handler: h}
	tcp := &dns.Server{Listener: l, Handler: h}
	for _, srv := range []*dns.Server{udp, tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
	}
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = udp.ShutdownContext(ctx)
		_ = tcp.ShutdownContext(ctx)
	}
	return pc.LocalAddr().String(), stop, nil
}

// listenUDPAndTCP binds UDP and TCP on one port. For port 0 it lets the
// kernel pick a UDP port, then takes the same port for TCP, and tries again
// with another port if TCP's is taken.
func listenUDPAndTCP(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("DNS address %q: %w (give host:port, such as 127.0.0.1:0)", addr, err)
	}
	tries := 1
	if port == "0" {
		tries = 20
	}
	var lastErr error
	for range tries {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, nil, fmt.Errorf("DNS on %s: listen UDP: %w", addr, err)
		}
		_, p, _ := net.SplitHostPort(pc.LocalAddr().String())
		l, err := net.Listen("tcp", net.JoinHostPort(host, p))
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
		lastErr = err
	}
	return nil, nil, fmt.Errorf("DNS on %s: listen TCP on the UDP port: %w (choose another port)", addr, lastErr)
}

func (s *Sim) handleDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := s.answerDNS(req)
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size := dns.MinMsgSize
		if o := req.IsEdns0(); o != nil {
			size = int(o.UDPSize())
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}

// answerDNS builds the authoritative answer to one query.
func (s *Sim) answerDNS(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	if o := req.IsEdns0(); o != nil {
		m.SetEdns0(max(o.UDPSize(), dns.MinMsgSize), false)
	}
	if req.Opcode != dns.OpcodeQuery {
		m.Rcode = dns.RcodeNotImplemented
		return m
	}
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		return m
	}
	q := req.Question[0]
	qtype := dns.TypeToString[q.Qtype]
	name := fqdn(q.Name)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.smtpHostAnswer(m, q) {
		return m
	}
	z, cut, ns := s.servingZoneFor(name)
	if z == nil && cut != "" {
		// Delegated to servers outside the account: a referral, as the
		// parent zone's servers give it.
		for _, n := range ns {
			m.Ns = append(m.Ns, &dns.NS{Hdr: dns.RR_Header{Name: cut, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 172800}, Ns: fqdn(n)})
		}
		return m
	}
	if z == nil {
		m.Rcode = dns.RcodeRefused
		return m
	}
	m.Authoritative = true
	// Follow CNAMEs as long as their targets stay inside the account's
	// public zones; a resolver chases the rest.
	for hop := 0; hop < 8; hop++ {
		sets, exists := zoneSetsAt(z, name)
		switch {
		case !exists:
			m.Rcode = dns.RcodeNameError
			m.Ns = append(m.Ns, soaOf(z))
			return m
		case q.Qtype == dns.TypeANY:
			types := make([]string, 0, len(sets))
			for t := range sets {
				types = append(types, t)
			}
			sort.Strings(types)
			for _, t := range types {
				m.Answer = append(m.Answer, setRRs(name, sets[t])...)
			}
			return m
		case sets[qtype] != nil:
			m.Answer = append(m.Answer, setRRs(name, sets[qtype])...)
			return m
		case sets["CNAME"] != nil && len(sets["CNAME"].Values) > 0:
			m.Answer = append(m.Answer, setRRs(name, sets["CNAME"])...)
			target := fqdn(sets["CNAME"].Values[0])
			nz, _, _ := s.servingZoneFor(target)
			if nz == nil {
				return m
			}
			name, z = target, nz
			continue
		}
		// The name exists, the type does not: NOERROR, no data.
		m.Ns = append(m.Ns, soaOf(z))
		return m
	}
	m.Rcode = dns.RcodeServerFailure // a CNAME loop
	return m
}

// zoneSetsAt returns the record sets at name in z, by type, and whether the
// name exists: it has records, is an empty non-terminal (a name below it
// has records), or matches a wildcard at its closest encloser.
func zoneSetsAt(z *hostedZone, name string) (map[string]*rrset, bool) {
	if sets := setsNamed(z, name); len(sets) > 0 {
		return sets, true
	}
	if hasDescendant(z, name) {
		return nil, true
	}
	// Wildcard synthesis (RFC 4592): find the closest existing ancestor
	// and look for "*." under it. Route 53 stores "*" as \052.
	for anc := parentName(name); anc != "" && (anc == z.Name || strings.HasSuffix(anc, "."+z.Name)); anc = parentName(anc) {
		if len(setsNamed(z, anc)) == 0 && !hasDescendant(z, anc) {
			continue
		}
		for _, w := range []string{"*." + anc, `\052.` + anc} {
			if sets := setsNamed(z, w); len(sets) > 0 {
				return sets, true
			}
		}
		break
	}
	return nil, false
}

func setsNamed(z *hostedZone, name string) map[string]*rrset {
	var out map[string]*rrset
	for k, set := range z.Sets {
		if k.Name == name {
			if out == nil {
				out = map[string]*rrset{}
			}
			out[k.Type] = set
		}
	}
	return out
}

func hasDescendant(z *hostedZone, name string) bool {
	for k := range z.Sets {
		if strings.HasSuffix(k.Name, "."+name) {
			return true
		}
	}
	return false
}

// parentName is name without its first label ("" above the root).
func parentName(name string) string {
	i := strings.Index(name, ".")
	if i < 0 || i == len(name)-1 {
		return ""
	}
	return name[i+1:]
}

// setRRs turns a record set into RRs owned by owner. Values are parsed as
// zone-file text, which is how Route 53 stores them: TXT as one or more
// quoted strings, MX as "10 host.". A value that does not parse is left
// out rather than answered wrong.
func setRRs(owner string, set *rrset) []dns.RR {
	vals := append([]string(nil), set.Values...)
	sort.Strings(vals)
	var out []dns.RR
	for _, v := range vals {
		rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", owner, set.TTL, set.Type, v))
		if err == nil && rr != nil {
			out = append(out, rr)
		}
	}
	return out
}

// soaOf is the zone's SOA for the authority section of negative answers,
// made up as Route 53 makes it when the zone lacks one.
func soaOf(z *hostedZone) dns.RR {
	if set := z.Sets[rrKey{z.Name, "SOA"}]; set != nil {
		if rrs := setRRs(z.Name, set); len(rrs) > 0 {
			return rrs[0]
		}
	}
	ns := "ns-1.awsdns-00.com."
	if len(z.NameServers) > 0 {
		ns = fqdn(z.NameServers[0])
	}
	return &dns.SOA{
		Hdr: dns.RR_Header{Name: z.Name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 900},
		Ns:  ns, Mbox: "awsdns-hostmaster.amazon.com.", Serial: 1,
		Refresh: 7200, Retry: 900, Expire: 1209600, Minttl: 86400,
	}
}

// servingZoneFor returns the public zone that answers for name as the
// world sees it. It starts at the account's topmost public zone holding
// name (as the registrar's delegation would) and follows each NS set below
// a zone's apex that holds name into the account's public zone of that
// name with one of those name servers. A name delegated to servers of no
// zone here has no serving zone: it returns nil with the cut and its name
// servers. Records a zone holds below its own cuts are never served, as in
// real DNS. Called with s.mu held.
func (s *Sim) servingZoneFor(name string) (z *hostedZone, cut string, ns []string) {
	name = fqdn(name)
	ids := make([]string, 0, len(s.r53.zones))
	for id := range s.r53.zones {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		c := s.r53.zones[id]
		if !c.Private && inZone(name, c.Name) && (z == nil || len(c.Name) < len(z.Name)) {
			z = c
		}
	}
	for hops := 0; z != nil && hops < 16; hops++ {
		cut, ns = topCut(z, name)
		if cut == "" {
			return z, "", nil
		}
		var next *hostedZone
		for _, id := range ids {
			c := s.r53.zones[id]
			if c.Private || c.Name != cut {
				continue
			}
			for _, n := range c.NameServers {
				for _, v := range ns {
					if strings.EqualFold(fqdn(n), fqdn(v)) && next == nil {
						next = c
					}
				}
			}
		}
		if next == nil {
			return nil, cut, ns
		}
		z = next
	}
	return z, "", nil
}

// topCut returns the NS set in z closest to its apex, below it, at name or
// an ancestor of it: where z delegates name away.
func topCut(z *hostedZone, name string) (string, []string) {
	var cut string
	var ns []string
	for n := name; n != "" && n != z.Name && strings.HasSuffix(n, "."+z.Name); n = parentName(n) {
		if set := z.Sets[rrKey{n, "NS"}]; set != nil {
			cut, ns = n, set.Values
		}
	}
	return cut, ns
}
