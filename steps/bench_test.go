package steps_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awssim"
	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/dns/route53"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
)

// countingWriter counts the simulator's request log lines: one per call.
type countingWriter struct{ n atomic.Int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n.Add(int64(strings.Count(string(p), "\n")))
	return len(p), nil
}

// BenchmarkStatus checks a finished setup against the simulator with
// 20 ms of latency per call, the steps one after another and with the
// prefetch: ns/op is the wait, calls/op the AWS calls.
func BenchmarkStatus(b *testing.B) {
	calls := &countingWriter{}
	sim := awssim.New(awssim.Options{Latency: 20 * time.Millisecond, Log: calls})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	sim.CreateZone("example.com", false)
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIABENCH00000000000", "bench-secret", "")}
	out := b.TempDir()
	newEnv := func(opts steps.Options) *steps.Env {
		env := steps.NewEnv(sdkClients(cfg), &state.Answers{Domain: "example.com", Region: "us-east-1", OutDir: out}, opts)
		env.Answers.MailFromAsked, env.Answers.DMARCAsked = true, true
		return env
	}
	env := newEnv(steps.Options{Yes: true, NoInput: true, NoSMTPTest: true})
	if _, err := (&steps.Runner{Steps: steps.Default()}).Run(context.Background(), env); err != nil {
		b.Fatalf("onboarding the simulated account: %v", err)
	}
	for _, prefetch := range []bool{false, true} {
		name := "sequential"
		if prefetch {
			name = "prefetch"
		}
		b.Run(name, func(b *testing.B) {
			start := calls.n.Load()
			for b.Loop() {
				env := newEnv(steps.Options{ReadOnly: true, NoInput: true})
				if prefetch {
					steps.Prefetch(context.Background(), env)
				}
				rep, err := (&steps.Runner{Steps: steps.Default()}).Status(context.Background(), env)
				if err != nil {
					b.Fatal(err)
				}
				for _, s := range rep.Steps {
					if s.Status != steps.StatusDone && s.Status != steps.StatusSkipped {
						b.Fatalf("step %s = %s: %s", s.ID, s.Status, s.Detail)
					}
				}
			}
			b.ReportMetric(float64(calls.n.Load()-start)/float64(b.N), "calls/op")
		})
	}
}

// BenchmarkPlanDNS plans the records of a domain with MAIL FROM and DMARC
// against a zone that already holds some of them and other records.
func BenchmarkPlanDNS(b *testing.B) {
	id := &steps.IdentityInfo{Tokens: []string{"tok1aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "tok2bbbbbbbbbbbbbbbbbbbbbbbbbbbb", "tok3cccccccccccccccccccccccccccc"}, SigningHostedZone: "dkim.amazonses.com"}
	desired := steps.DesiredRecords("example.com", "us-east-1", id, "mail", true)
	var current []dns.Record
	set := func(name, typ string, values ...string) {
		s := r53types.ResourceRecordSet{Name: aws.String(name), Type: r53types.RRType(typ), TTL: aws.Int64(300)}
		for _, v := range values {
			s.ResourceRecords = append(s.ResourceRecords, r53types.ResourceRecord{Value: aws.String(v)})
		}
		current = append(current, route53.Record(s))
	}
	set("example.com.", "MX", "10 mx1.example.net.", "20 mx2.example.net.")
	set("mail.example.com.", "TXT", `"v=spf1 include:_spf.example.net ~all"`)
	set(desired[0].Name+".", "CNAME", desired[0].Values...)
	for i := range 50 {
		set(fmt.Sprintf("host%d.example.com.", i), "A", "192.0.2.1")
	}
	for b.Loop() {
		steps.PlanDNS("example.com", desired, current)
	}
}

// BenchmarkSMTPPassword derives an SES SMTP password (five HMAC-SHA256
// rounds).
func BenchmarkSMTPPassword(b *testing.B) {
	for b.Loop() {
		ses.SMTPPassword("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "eu-west-1")
	}
}
