package awssim

import (
	"testing"

	"github.com/miekg/dns"
)

// The sim's DNS answers for SES SMTP hosts as the public DNS does: the
// regions of the General Reference's SMTP endpoint table resolve, unless
// NoSMTPHost names them; other email-smtp names do not exist; other names
// outside the account's zones stay refused.
func TestDNSAnswersSMTPHosts(t *testing.T) {
	sim := New(Options{NoSMTPHost: []string{"eu-west-3"}})
	addr, stop, err := sim.ServeDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	tests := []struct {
		name    string
		qtype   uint16
		rcode   int
		answers int
	}{
		{"email-smtp.us-east-1.amazonaws.com.", dns.TypeA, dns.RcodeSuccess, 1},
		{"EMAIL-SMTP.eu-south-1.amazonaws.com.", dns.TypeA, dns.RcodeSuccess, 1},
		{"email-smtp.us-east-1.amazonaws.com.", dns.TypeAAAA, dns.RcodeSuccess, 0},
		{"email-smtp.eu-west-3.amazonaws.com.", dns.TypeA, dns.RcodeNameError, 0},    // --no-smtp-host
		{"email-smtp.eu-central-2.amazonaws.com.", dns.TypeA, dns.RcodeNameError, 0}, // not in the table
		{"email.us-east-1.amazonaws.com.", dns.TypeA, dns.RcodeRefused, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+dns.TypeToString[tt.qtype], func(t *testing.T) {
			q := new(dns.Msg)
			q.SetQuestion(tt.name, tt.qtype)
			in, err := dns.Exchange(q, addr)
			if err != nil {
				t.Fatal(err)
			}
			if in.Rcode != tt.rcode || len(in.Answer) != tt.answers {
				t.Errorf("rcode %s with %d answers, want %s with %d", dns.RcodeToString[in.Rcode], len(in.Answer), dns.RcodeToString[tt.rcode], tt.answers)
			}
		})
	}
}
