package dns_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/awssim"
	"github.com/sesame-tool/sesame/steps/dns"
)

// TestResolverAgainstSimDNS drives the simulator's DNS server with the
// resolver the wizard's visibility checks use (UDP, then TCP when an
// answer is truncated). It lives here, not in awssim, so that awssim stays
// a second opinion that imports nothing of sesame's DNS code.
func TestResolverAgainstSimDNS(t *testing.T) {
	sim := awssim.New(awssim.Options{})
	zone := sim.CreateZone("example.com", false)
	// big is a TXT set too large for a 512-byte UDP answer.
	var big, bigWant []string
	for i := range 6 {
		v := strings.Repeat(string(rune('a'+i)), 200)
		big, bigWant = append(big, `"`+v+`"`), append(bigWant, v)
	}
	for _, rs := range []struct {
		name, typ string
		values    []string
	}{
		{"example.com", "MX", []string{"10 mx1.mail-provider.example.", "20 mx2.mail-provider.example."}},
		{"www.example.com", "A", []string{"192.0.2.10"}},
		{"abc._domainkey.example.com", "CNAME", []string{"abc.dkim.amazonses.com"}},
		{"split.example.com", "TXT", []string{`"v=DMARC1; p=none; " "rua=mailto:dmarc@example.com"`}},
		{"big.example.com", "TXT", big},
	} {
		if err := sim.PutRecordSet(zone, rs.name, rs.typ, 300, rs.values...); err != nil {
			t.Fatal(err)
		}
	}
	addr, stop, err := sim.ServeDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	r := dns.NewResolver(addr, 2*time.Second)
	tests := []struct {
		name, qtype string
		want        []string
	}{
		{"abc._domainkey.example.com", "CNAME", []string{"abc.dkim.amazonses.com."}},
		{"example.com", "MX", []string{"10 mx1.mail-provider.example.", "20 mx2.mail-provider.example."}},
		{"split.example.com", "TXT", []string{"v=DMARC1; p=none; rua=mailto:dmarc@example.com"}},
		{"big.example.com", "TXT", bigWant},
		{"nope.example.com", "TXT", []string{}},
		{"www.example.com", "TXT", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.qtype, func(t *testing.T) {
			got, err := r.Lookup(context.Background(), tt.name, tt.qtype)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
