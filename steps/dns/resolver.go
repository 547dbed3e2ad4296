package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// Resolver looks up DNS records for the visibility checks. Lookups are
// bounded (about 2 s); a failure is reported as "unknown", never a hang.
type Resolver interface {
	// Lookup returns the record values of type qtype ("CNAME", "TXT", "MX")
	// at name, as the authoritative servers or the configured resolver see
	// them. TXT values are returned joined (without quotes), MX as
	// "10 host.", CNAME targets with a trailing dot.
	Lookup(ctx context.Context, name, qtype string) ([]string, error)
}

// DefaultLookupTimeout bounds one DNS lookup of the visibility checks.
const DefaultLookupTimeout = 2 * time.Second

// dnsResolver is the Resolver behind NewResolver: it asks its servers in
// order and returns the first answer.
type dnsResolver struct {
	// servers are host:port pairs; empty means read /etc/resolv.conf at
	// each lookup (so a changed resolv.conf is picked up).
	servers []string
	timeout time.Duration
	// resolvConf is the file read when servers is empty.
	resolvConf string
}

// NewResolver returns a Resolver that asks server ("host:port", from
// --resolver) or, when server is empty, the system's resolvers from
// /etc/resolv.conf. Each lookup is bounded by timeout (DefaultLookupTimeout
// when zero).
func NewResolver(server string, timeout time.Duration) Resolver {
	r := &dnsResolver{timeout: timeout, resolvConf: "/etc/resolv.conf"}
	if server != "" {
		r.servers = []string{withPort(server)}
	}
	return r
}

// withPort adds DNS's port 53 where addr has none.
func withPort(addr string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	return net.JoinHostPort(strings.Trim(addr, "[]"), "53")
}

// Lookup asks for qtype at name and returns the values normalised as the
// Resolver interface says. A name that does not exist, or has no record of
// that type, is an empty answer and no error; a server failure or timeout
// is an error (the caller shows "unknown").
func (r *dnsResolver) Lookup(ctx context.Context, name, qtype string) ([]string, error) {
	t, ok := mdns.StringToType[strings.ToUpper(qtype)]
	if !ok {
		return nil, fmt.Errorf("look up %s %s: unknown record type", name, qtype)
	}
	timeout := r.timeout
	if timeout <= 0 {
		timeout = DefaultLookupTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	servers := r.servers
	if len(servers) == 0 {
		cfg, err := mdns.ClientConfigFromFile(r.resolvConf)
		if err != nil {
			return nil, fmt.Errorf("look up %s %s: read the system resolver configuration: %w", name, qtype, err)
		}
		for _, s := range cfg.Servers {
			servers = append(servers, net.JoinHostPort(s, cfg.Port))
		}
	}
	if len(servers) == 0 {
		return nil, fmt.Errorf("look up %s %s: no DNS server to ask", name, qtype)
	}

	q := new(mdns.Msg)
	q.SetQuestion(mdns.Fqdn(strings.ToLower(name)), t)
	q.RecursionDesired = true
	var errs []error
	for _, srv := range servers {
		in, err := exchange(ctx, q, srv)
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		switch in.Rcode {
		case mdns.RcodeSuccess, mdns.RcodeNameError:
			return answerValues(in, t), nil
		default:
			errs = append(errs, fmt.Errorf("%s answered %s", srv, mdns.RcodeToString[in.Rcode]))
		}
	}
	return nil, fmt.Errorf("look up %s %s: %w", name, qtype, errors.Join(errs...))
}

// exchange asks srv over UDP and again over TCP when the answer was
// truncated (long TXT sets).
func exchange(ctx context.Context, q *mdns.Msg, srv string) (*mdns.Msg, error) {
	c := &mdns.Client{Net: "udp"}
	in, _, err := c.ExchangeContext(ctx, q, srv)
	if err == nil && in.Truncated {
		c = &mdns.Client{Net: "tcp"}
		in, _, err = c.ExchangeContext(ctx, q, srv)
	}
	return in, err
}

// answerValues picks the answers of type t out of a reply and normalises
// them: TXT strings joined without quotes, MX as "10 host.", CNAME targets
// lower case with a trailing dot.
func answerValues(in *mdns.Msg, t uint16) []string {
	out := []string{}
	for _, rr := range in.Answer {
		if rr.Header().Rrtype != t {
			continue
		}
		switch v := rr.(type) {
		case *mdns.TXT:
			var b strings.Builder
			for _, part := range v.Txt {
				b.WriteString(unescapeTXT(part))
			}
			out = append(out, b.String())
		case *mdns.MX:
			out = append(out, strconv.Itoa(int(v.Preference))+" "+strings.ToLower(mdns.Fqdn(v.Mx)))
		case *mdns.CNAME:
			out = append(out, strings.ToLower(mdns.Fqdn(v.Target)))
		case *mdns.NS:
			out = append(out, strings.ToLower(mdns.Fqdn(v.Ns)))
		default:
			// Other types: the value part of the presentation form.
			s := rr.String()
			h := rr.Header().String()
			out = append(out, strings.TrimPrefix(s, h))
		}
	}
	return out
}

// unescapeTXT undoes miekg/dns's presentation escapes in a TXT string:
// \DDD (three decimal digits) for unprintable bytes, \" and \\.
func unescapeTXT(s string) string { return unescapeDigits(s, 10) }
