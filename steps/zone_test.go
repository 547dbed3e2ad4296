package steps

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/state"
	"github.com/sesame-tool/sesame/steps/stepstest"
)

func TestFindZone(t *testing.T) {
	type zone struct {
		name    string
		private bool
	}
	tests := []struct {
		name    string
		domain  string
		zones   []zone
		page    int
		zoneArg int    // 1-based index into zones for Answers.ZoneID; 0 for none
		choose  int    // 1-based index the prompt picks; 0: no prompt expected
		want    int    // 1-based index of the zone found; 0 for none
		errFlag string // an InputError naming this flag
	}{
		{name: "no zones", domain: "example.com"},
		{name: "one public zone", domain: "example.com", zones: []zone{{"example.com", false}}, want: 1},
		{name: "private zone of the same name is ignored", domain: "example.com",
			zones: []zone{{"example.com", true}, {"example.com", false}}, want: 2},
		{name: "only a private zone", domain: "example.com", zones: []zone{{"example.com", true}}},
		{name: "domain in its parent's zone", domain: "mail.example.com",
			zones: []zone{{"example.com", false}, {"other.com", false}}, want: 1},
		{name: "domain in its own delegated zone", domain: "mail.example.com",
			zones: []zone{{"example.com", false}, {"mail.example.com", false}}, want: 2},
		{name: "neighbours in the sort order are not suffixes", domain: "example.com",
			zones: []zone{{"example.com.au", false}, {"aexample.com", false}, {"sub.example.com", false}}},
		{name: "pagination one zone per page", domain: "b.example.com", page: 1,
			zones: []zone{{"a.example.com", false}, {"b.example.com", true}, {"b.example.com", true}, {"b.example.com", false}, {"c.example.com", false}}, want: 4},
		{name: "two public zones: ask", domain: "example.com",
			zones: []zone{{"example.com", false}, {"example.com", false}}, choose: 2, want: 2},
		{name: "two public zones: --zone-id decides", domain: "example.com",
			zones: []zone{{"example.com", false}, {"example.com", false}}, zoneArg: 1, want: 1},
		{name: "--zone-id of a parent zone", domain: "a.example.com",
			zones: []zone{{"example.com", false}}, zoneArg: 1, want: 1},
		{name: "--zone-id of another domain", domain: "example.com",
			zones: []zone{{"example.org", false}}, zoneArg: 1, errFlag: "--zone-id"},
		{name: "--zone-id of a private zone", domain: "example.com",
			zones: []zone{{"example.com", true}}, zoneArg: 1, errFlag: "--zone-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := stepstest.NewFakeRoute53()
			if tt.page > 0 {
				f.PageSize = tt.page
			}
			var ids []string
			for _, z := range tt.zones {
				ids = append(ids, f.AddZone(z.name, z.private))
			}
			env := NewEnv(awsapi.Clients{Route53: f}, &state.Answers{Domain: tt.domain, Region: "us-east-1"}, Options{})
			p := &dtPrompt{}
			env.Prompt = p
			if tt.zoneArg > 0 {
				env.Answers.ZoneID = "/hostedzone/" + ids[tt.zoneArg-1]
			}
			if tt.choose > 0 {
				p.choice = ids[tt.choose-1]
			}
			zl, err := findZone(context.Background(), env, "dns")
			if tt.errFlag != "" {
				var ie *InputError
				if !errors.As(err, &ie) || ie.Flag != tt.errFlag {
					t.Fatalf("err = %v, want an InputError naming %s", err, tt.errFlag)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (len(p.asked) > 0) != (tt.choose > 0) {
				t.Fatalf("asked %d questions, want a question: %v", len(p.asked), tt.choose > 0)
			}
			if tt.choose > 0 && (p.asked[0].Flag != "--zone-id" || env.Answers.ZoneID != ids[tt.choose-1]) {
				t.Errorf("question %+v, saved answer %q", p.asked[0], env.Answers.ZoneID)
			}
			if tt.want == 0 {
				if zl.Zone != nil {
					t.Fatalf("found %+v, want none", zl.Zone)
				}
				return
			}
			if zl.Zone == nil || zl.Zone.ID != ids[tt.want-1] {
				t.Fatalf("found %+v, want %s", zl.Zone, ids[tt.want-1])
			}
			if env.Facts.Zone != zl.Zone || env.Record.ZoneID != zl.Zone.ID || len(zl.Zone.NameServers) != 4 {
				t.Errorf("facts %+v, record %q", env.Facts.Zone, env.Record.ZoneID)
			}
		})
	}
}

func TestFindZoneTwoPublicZonesNoInput(t *testing.T) {
	f := stepstest.NewFakeRoute53()
	f.AddZone("example.com", false)
	f.AddZone("example.com", false)
	env := NewEnv(awsapi.Clients{Route53: f}, &state.Answers{Domain: "example.com"}, Options{NoInput: true})
	_, err := findZone(context.Background(), env, "dns")
	var ie *InputError
	if !errors.As(err, &ie) || ie.Flag != "--zone-id" || ExitCode(err) != 2 {
		t.Fatalf("err = %v, want an InputError naming --zone-id", err)
	}
}

func TestFindZoneUnknownZoneID(t *testing.T) {
	f := stepstest.NewFakeRoute53()
	env := NewEnv(awsapi.Clients{Route53: f}, &state.Answers{Domain: "example.com", ZoneID: "ZNOPE"}, Options{})
	_, err := findZone(context.Background(), env, "dns")
	var ie *InputError
	if !errors.As(err, &ie) || ie.Flag != "--zone-id" {
		t.Fatalf("err = %v", err)
	}
}

func TestFindZoneDelegationWarning(t *testing.T) {
	tests := []struct {
		name string
		ns   []string
		err  error
		warn bool
	}{
		{name: "delegated to the zone", ns: nil, warn: false}, // filled below with the zone's servers
		{name: "delegated elsewhere", ns: []string{"ns1.registrar-dns.example.", "ns2.registrar-dns.example."}, warn: true},
		{name: "lookup failed", err: errors.New("timeout"), warn: false},
		{name: "no NS seen", ns: []string{}, warn: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := stepstest.NewFakeRoute53()
			id := f.AddZone("example.com", false)
			ns := tt.ns
			if ns == nil && tt.err == nil {
				ns = []string{strings.ToUpper(f.NameServers(id)[2]) + "."}
			}
			r := &dtResolver{answers: map[string][]string{"example.com NS": ns}, errs: map[string]error{}}
			if tt.err != nil {
				r.errs["example.com NS"] = tt.err
			}
			env := NewEnv(awsapi.Clients{Route53: f}, &state.Answers{Domain: "example.com"}, Options{})
			env.DNS = r
			zl, err := findZone(context.Background(), env, "dns")
			if err != nil {
				t.Fatal(err)
			}
			if got := len(zl.Warnings) > 0; got != tt.warn {
				t.Fatalf("warnings %q, want a warning: %v", zl.Warnings, tt.warn)
			}
			if tt.warn && !strings.Contains(zl.Warnings[0], "will not be seen") {
				t.Errorf("warning %q", zl.Warnings[0])
			}
		})
	}
}
