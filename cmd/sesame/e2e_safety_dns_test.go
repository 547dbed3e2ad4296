package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
)

// The DNS cases of TestNeverDamage: every DNS conflict and zone
// question that can be answered before the first AWS write is, and what
// is in the operator's zones is never weakened, lost, or written where it
// is not served.

// startSimSeed starts sesame-sim as startSim does, with seed as its seed
// file instead (the last --seed-file given wins).
func startSimSeed(t *testing.T, seed string, extra ...string) *simProc {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dns-seed.json")
	writeFile(t, path, seed)
	return startSim(t, append([]string{"--seed-file", path}, extra...)...)
}

// zoneSet is one record set of a zone as Route 53 lists it.
type zoneSet struct {
	zone, name, typ string
	values          []string
}

// zoneSets reads every record set of every hosted zone, values as the API
// returns them (read calls only).
func (p *simProc) zoneSets(t *testing.T) []zoneSet {
	t.Helper()
	ctx := context.Background()
	rc := route53.NewFromConfig(p.awsConfig("us-east-1"))
	zones, err := rc.ListHostedZones(ctx, &route53.ListHostedZonesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var out []zoneSet
	for _, z := range zones.HostedZones {
		sets, err := rc.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: z.Id})
		if err != nil {
			t.Fatal(err)
		}
		for _, rs := range sets.ResourceRecordSets {
			s := zoneSet{zone: aws.ToString(z.Name), name: aws.ToString(rs.Name), typ: string(rs.Type)}
			for _, v := range rs.ResourceRecords {
				s.values = append(s.values, aws.ToString(v.Value))
			}
			out = append(out, s)
		}
	}
	return out
}

// setIn returns the set name/typ in the zone named zone (nil if none).
func setIn(sets []zoneSet, zone, name, typ string) []string {
	for _, s := range sets {
		if s.zone == zone && s.name == name && s.typ == typ {
			return s.values
		}
	}
	return nil
}

func dnsArgs(home, domain string, extra ...string) []string {
	return append([]string{"--no-input", "--yes", "--domain", domain, "--region", "us-east-1", "--out", filepath.Join(home, "relay")}, extra...)
}

func assertNoWrites(t *testing.T, sim *simProc) {
	t.Helper()
	if m := sim.mutating(); len(m) != 0 {
		t.Errorf("AWS writes before the refusal: %v", m)
	}
}

func safetyDNSUnknownZoneID(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	r := sim.sesame(t, home, dnsArgs(home, "example.com", "--zone-id", "Z0NOSUCHZONE00000000")...)
	if r.code != 2 || !strings.Contains(r.stderr, "--zone-id") || !strings.Contains(r.stderr, "Z0NOSUCHZONE00000000") {
		t.Fatalf("exit %d, want 2 naming --zone-id and the id\nstderr:\n%s", r.code, r.stderr)
	}
	assertNoWrites(t, sim)
}

var zoneIDRE = regexp.MustCompile(`Z[A-Z0-9]{20}`)

func safetyDNSTwoZones(t *testing.T) {
	sim := startSimSeed(t, `{"zones":[{"name":"shop.example","records":[]},{"name":"shop.example","records":[]}]}`)
	home := t.TempDir()
	r := sim.sesame(t, home, dnsArgs(home, "shop.example")...)
	if r.code != 2 || !strings.Contains(r.stderr, "--zone-id") {
		t.Fatalf("exit %d, want 2 naming --zone-id\nstderr:\n%s", r.code, r.stderr)
	}
	var ids []string
	rc := route53.NewFromConfig(sim.awsConfig("us-east-1"))
	zones, err := rc.ListHostedZones(context.Background(), &route53.ListHostedZonesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, z := range zones.HostedZones {
		ids = append(ids, zoneIDRE.FindString(aws.ToString(z.Id)))
	}
	for _, id := range ids {
		if !strings.Contains(r.stderr, id) {
			t.Errorf("the refusal does not name zone %s:\n%s", id, r.stderr)
		}
	}
	assertNoWrites(t, sim)
}

func safetyDNSMailFromConflict(t *testing.T) {
	for _, c := range []struct {
		name, record, says string
	}{
		{"two SPF records", `{"name":"mail.shop.example","type":"TXT","ttl":300,"values":["\"v=spf1 a ~all\"","\"v=spf1 mx ~all\""]}`, "two SPF records"},
		{"a CNAME", `{"name":"mail.shop.example","type":"CNAME","ttl":300,"values":["elsewhere.example."]}`, "is a CNAME"},
		{"an MX elsewhere", `{"name":"mail.shop.example","type":"MX","ttl":300,"values":["10 inbound.example."]}`, "already has MX records"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each case seeds its own sesame-sim
			sim := startSimSeed(t, `{"zones":[{"name":"shop.example","records":[`+c.record+`]}]}`)
			home := t.TempDir()
			dry := sim.sesame(t, home, dnsArgs(home, "shop.example", "--mail-from", "mail", "--dry-run")...)
			if dry.code != 1 || !strings.Contains(dry.stdout+dry.stderr, c.says) {
				t.Errorf("--dry-run exit %d, want 1 showing %q\nstdout:\n%s\nstderr:\n%s", dry.code, c.says, dry.stdout, dry.stderr)
			}
			r := sim.sesame(t, home, dnsArgs(home, "shop.example", "--mail-from", "mail")...)
			if r.code != 1 || !strings.Contains(r.stdout+r.stderr, c.says) {
				t.Errorf("exit %d, want 1 showing %q\nstdout:\n%s\nstderr:\n%s", r.code, c.says, r.stdout, r.stderr)
			}
			assertNoWrites(t, sim)
		})
	}
}

func safetyDNSDMARCNotWeakened(t *testing.T) {
	sim := startSimSeed(t, `{"zones":[{"name":"shop.example","records":[
	  {"name":"_dmarc.shop.example","type":"TXT","ttl":300,"values":["\"v=DMARC1; p=reject; sp=reject\""]}]}]}`)
	home := t.TempDir()
	r := sim.sesame(t, home, dnsArgs(home, "mail.shop.example", "--dmarc")...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	sets := sim.zoneSets(t)
	if got := setIn(sets, "shop.example.", "_dmarc.mail.shop.example.", "TXT"); got != nil {
		t.Errorf("a DMARC policy was published for mail.shop.example under the organizational domain's reject: %q", got)
	}
	if got := setIn(sets, "shop.example.", "_dmarc.shop.example.", "TXT"); !slices.Equal(got, []string{`"v=DMARC1; p=reject; sp=reject"`}) {
		t.Errorf("_dmarc.shop.example = %q, want it untouched", got)
	}
	if !strings.Contains(r.stdout+r.stderr, "already applies") {
		t.Errorf("the run does not say which policy applies:\n%s\n%s", r.stdout, r.stderr)
	}
}

func safetyDNSDelegatedChild(t *testing.T) {
	for _, c := range []struct {
		name, ns  string
		inAccount bool
	}{
		{"to a zone of the account", `"ns-1.child-dns.example.","ns-2.child-dns.example."`, true},
		{"to servers outside the account", `"ns1.other-dns.example."`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each case seeds its own sesame-sim
			sim := startSimSeed(t, `{"zones":[
			  {"name":"shop.example","records":[
			    {"name":"mail.shop.example","type":"NS","ttl":172800,"values":[`+c.ns+`]}]},
			  {"name":"mail.shop.example","name_servers":["ns-1.child-dns.example","ns-2.child-dns.example"],"records":[]}]}`)
			home := t.TempDir()
			r := sim.sesame(t, home, dnsArgs(home, "shop.example", "--mail-from", "mail", "--no-wait")...)
			if r.code != 0 && r.code != 3 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			sets := sim.zoneSets(t)
			for _, typ := range []string{"MX", "TXT"} {
				if got := setIn(sets, "shop.example.", "mail.shop.example.", typ); got != nil {
					t.Errorf("%s written into the parent below the delegation, where it is never served: %q", typ, got)
				}
				if got := setIn(sets, "mail.shop.example.", "mail.shop.example.", typ); (got != nil) != c.inAccount {
					t.Errorf("%s in the account's zone mail.shop.example = %q, want written=%v", typ, got, c.inAccount)
				}
			}
			if !c.inAccount && !strings.Contains(r.stdout+r.stderr, "is delegated by zone shop.example") {
				t.Errorf("the run does not say why the MAIL FROM records are not written:\n%s\n%s", r.stdout, r.stderr)
			}
		})
	}
}

func safetyDNSLostChangeAnswer(t *testing.T) {
	sim := startSim(t)
	target, _ := url.Parse(sim.url)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var dropped atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/rrset") && r.Method == http.MethodPost && dropped.CompareAndSwap(false, true) {
			// Let Route 53 apply the batch, then lose the answer.
			proxy.ServeHTTP(httptest.NewRecorder(), r)
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	viaProxy := &simProc{url: front.URL, dns: sim.dns, smtp: sim.smtp, cert: sim.cert}
	home := t.TempDir()
	r := viaProxy.sesame(t, home, onboardArgs(filepath.Join(home, "relay"))...)
	if !dropped.Load() {
		t.Fatal("no ChangeResourceRecordSets went through the proxy")
	}
	assertComplete(t, r)
	if strings.Contains(r.stderr, "someone else edited") {
		t.Errorf("the lost answer is blamed on someone else:\n%s", r.stderr)
	}
	if sim.countApplied("ChangeResourceRecordSets") != 1 {
		t.Errorf("ChangeResourceRecordSets took effect %d times, want 1", sim.countApplied("ChangeResourceRecordSets"))
	}
}

func safetyDNSTXTKept(t *testing.T) {
	long := strings.Repeat("k", 300)
	values := []string{
		`"say \"hi\" \\ ok"`,
		`"part one " "part two"`,
		`"` + long[:100] + `" "` + long[100:] + `"`,
	}
	seed, err := json.Marshal(map[string]any{"zones": []any{map[string]any{"name": "shop.example", "records": []any{
		map[string]any{"name": "mail.shop.example", "type": "TXT", "ttl": 300, "values": values}}}}})
	if err != nil {
		t.Fatal(err)
	}
	sim := startSimSeed(t, string(seed))
	home := t.TempDir()
	r := sim.sesame(t, home, dnsArgs(home, "shop.example", "--mail-from", "mail")...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	got := setIn(sim.zoneSets(t), "shop.example.", "mail.shop.example.", "TXT")
	for _, v := range values {
		if !slices.Contains(got, v) {
			t.Errorf("TXT value %s changed or lost; the set is now %q", v, got)
		}
	}
	if !slices.Contains(got, `"v=spf1 include:amazonses.com ~all"`) {
		t.Errorf("sesame's SPF record is missing: %q", got)
	}
}
