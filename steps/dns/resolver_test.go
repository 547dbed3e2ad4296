package dns

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// startDNS serves a tiny zone on loopback (UDP and TCP on one port) and
// returns its address. "slow.example.com." never gets an answer;
// "broken.example.com." gets SERVFAIL.
func startDNS(t *testing.T) string {
	t.Helper()
	long := strings.Repeat("x", 255)
	records := map[string][]mdns.RR{}
	add := func(s string) {
		rr, err := mdns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		k := strings.ToLower(rr.Header().Name) + " " + mdns.TypeToString[rr.Header().Rrtype]
		records[k] = append(records[k], rr)
	}
	add(`tok._domainkey.example.com. 300 IN CNAME TOK.DKIM.amazonses.com.`)
	add(`mail.example.com. 300 IN MX 10 Feedback-SMTP.us-east-1.amazonses.com.`)
	add(`mail.example.com. 300 IN TXT "v=spf1 include:amazonses.com ~all"`)
	add(`mail.example.com. 300 IN TXT "part one " "part two"`)
	add(`esc.example.com. 300 IN TXT "caf\195\169 \"q\" back\\slash"`)
	for i := 0; i < 8; i++ {
		add(`big.example.com. 300 IN TXT "` + long + `" "` + string(rune('a'+i)) + `"`)
	}
	handler := mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		q := r.Question[0]
		if q.Name == "slow.example.com." {
			return // no answer: the client must time out
		}
		m := new(mdns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		if q.Name == "broken.example.com." {
			m.Rcode = mdns.RcodeServerFailure
		} else if rrs := records[strings.ToLower(q.Name)+" "+mdns.TypeToString[q.Qtype]]; len(rrs) > 0 {
			m.Answer = rrs
		} else {
			m.Rcode = mdns.RcodeNameError
		}
		if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
			m.Truncate(512)
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		t.Skipf("no TCP on the UDP port %s: %v", pc.LocalAddr(), err)
	}
	udp := &mdns.Server{PacketConn: pc, Handler: handler}
	tcp := &mdns.Server{Listener: l, Handler: handler}
	go func() { _ = udp.ActivateAndServe() }()
	go func() { _ = tcp.ActivateAndServe() }()
	t.Cleanup(func() { _ = udp.Shutdown(); _ = tcp.Shutdown() })
	return pc.LocalAddr().String()
}

func TestResolver(t *testing.T) {
	addr := startDNS(t)
	tests := []struct {
		name, qname, qtype string
		want               []string
		wantErr            bool
	}{
		{name: "CNAME normalised", qname: "tok._domainkey.example.com", qtype: "CNAME", want: []string{"tok.dkim.amazonses.com."}},
		{name: "MX normalised", qname: "MAIL.example.com.", qtype: "MX", want: []string{"10 feedback-smtp.us-east-1.amazonses.com."}},
		{name: "TXT joined", qname: "mail.example.com", qtype: "TXT", want: []string{"v=spf1 include:amazonses.com ~all", "part one part two"}},
		{name: "TXT escapes decoded", qname: "esc.example.com", qtype: "TXT", want: []string{`café "q" back\slash`}},
		{name: "NXDOMAIN is empty", qname: "nope.example.com", qtype: "TXT", want: []string{}},
		{name: "SERVFAIL is an error", qname: "broken.example.com", qtype: "TXT", wantErr: true},
		{name: "no answer times out", qname: "slow.example.com", qtype: "TXT", wantErr: true},
		{name: "unknown type", qname: "mail.example.com", qtype: "NOPE", wantErr: true},
	}
	resolvers := map[string]Resolver{
		"--resolver": NewResolver(addr, 300*time.Millisecond),
	}
	for rname, r := range resolvers {
		for _, tt := range tests {
			t.Run(rname+"/"+tt.name, func(t *testing.T) {
				got, err := r.Lookup(context.Background(), tt.qname, tt.qtype)
				if tt.wantErr {
					if err == nil {
						t.Fatalf("got %q, want an error", got)
					}
					return
				}
				if err != nil || !slices.Equal(got, tt.want) {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
			})
		}
	}
	// A truncated UDP answer is asked again over TCP.
	got, err := resolvers["--resolver"].Lookup(context.Background(), "big.example.com", "TXT")
	if err != nil || len(got) != 8 {
		t.Fatalf("big TXT: %d values, %v", len(got), err)
	}
}

// TestResolverSystemConfig: without --resolver the servers of resolv.conf
// are asked (here 127.0.0.1:53, where no test server runs, so the lookup
// fails within its bound and names the server), and an unreadable
// resolv.conf is an error.
func TestResolverSystemConfig(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(conf, []byte("nameserver 127.0.0.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := NewResolver("", 200*time.Millisecond).(*dnsResolver)
	r.resolvConf = conf
	if _, err := r.Lookup(context.Background(), "mail.example.com", "MX"); err == nil || !strings.Contains(err.Error(), "127.0.0.1:53") {
		t.Fatalf("err = %v, want a failure naming 127.0.0.1:53", err)
	}
	r.resolvConf = filepath.Join(t.TempDir(), "missing")
	if _, err := r.Lookup(context.Background(), "mail.example.com", "MX"); err == nil || !strings.Contains(err.Error(), "system resolver") {
		t.Fatalf("a missing resolv.conf: %v", err)
	}
}
