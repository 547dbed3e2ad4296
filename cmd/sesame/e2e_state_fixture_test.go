package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-tool/sesame/steps/state"
)

// stateV1Dir is a state directory exactly as sesame left it on 2026-11-30
// (main at ed4e3c8, state schema 1) after a finished run against
// sesame-sim: `sesame --no-input --yes --json --domain example.com
// --region us-east-1 --smtp-user ses-smtp-fixture --mail-from mail --dmarc
// --out $HOME/relay-fixture`, run with HOME=stateV1Home. It holds the
// state file and the empty lock file that run left, and no secret.
var stateV1Dir = filepath.Join("..", "..", "steps", "state", "testdata", "state-v1")

// stateV1Home is the HOME the fixture was written under: its paths (the
// out directory, the files sesame wrote) start with it, and a test puts
// its own HOME in their place.
const stateV1Home = "/tmp/fixgen/home"

// stateV1Key is the access key the fixture's run created.
const stateV1Key = "AKIA1OEH4AUR486PYY0O"

// A state directory written by an earlier sesame (schema 1) resumes: a run
// given only the domain and region takes the saved answers (the SMTP
// user's name, MAIL FROM, DMARC, the out directory) and the saved record
// (the IAM user is sesame's, though it carries no tag: only the record
// says so), asks nothing, fails nothing, and keeps the file's answers.
func TestStateFileV1Resumes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The account as the fixture's run left it: the zone with the
	// operator's records, the IAM user with its key (untagged, so only the
	// record says sesame made it), the identity verified.
	seed := filepath.Join(dir, "seed.json")
	writeFile(t, seed, `{"zones":[{"name":"example.com","records":[
	  {"name":"example.com","type":"MX","ttl":300,"values":["10 mx1.mail-provider.example.","20 mx2.mail-provider.example."]},
	  {"name":"example.com","type":"TXT","ttl":300,"values":["\"google-site-verification=abc123\"","\"v=spf1 include:_spf.mail-provider.example ~all\""]}
	]}],
	"users":[{"name":"ses-smtp-fixture","keys":[{"id":"`+stateV1Key+`"}]}],
	"identities":[{"name":"example.com","status":"verified"}]}`)
	sim := startSim(t, "--seed-file", seed)

	home := t.TempDir()
	stateDir := filepath.Join(home, ".local", "state", "sesame")
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(stateV1Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(stateV1Dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(stateDir, e.Name()), []byte(strings.ReplaceAll(string(b), stateV1Home, home)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const acct, region, domain = "123456789012", "us-east-1", "example.com"
	before, err := state.Store{Dir: stateDir}.Load(acct, region, domain)
	if err != nil || before == nil {
		t.Fatalf("the fixture does not load: %+v, %v", before, err)
	}

	r := sim.sesame(t, home, "--no-input", "--yes", "--json", "--domain", domain, "--region", region)
	if r.code != 0 {
		t.Fatalf("resume exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	rep := parseReport(t, r)
	want := map[string]string{"account": "done", "smtp-user": "done", "identity": "done", "dns": "done", "inbound-mx": "skipped", "verification": "done", "sandbox": "done", "relay": "done"}
	for _, s := range rep.Steps {
		if want[s.ID] != s.Status {
			t.Errorf("step %s = %s (%s), want %s", s.ID, s.Status, s.Detail, want[s.ID])
		}
	}
	ops := strings.Join(sim.mutating(), "\n")
	for _, tt := range []struct {
		op   string
		want bool
		why  string
	}{
		{"CreateUser", false, "the saved SMTP user name was not taken: a user of another name was made"},
		{"CreateEmailIdentity", false, "the identity was made again"},
		{"PutEmailIdentityMailFromAttributes", true, "the saved MAIL FROM answer was not taken"},
	} {
		if strings.Contains(ops, " "+tt.op+" ") != tt.want {
			t.Errorf("%s: mutating calls:\n%s", tt.why, ops)
		}
	}
	out := before.Answers.OutDir
	if !strings.HasPrefix(out, home) {
		t.Fatalf("the fixture's out directory %q is not under the test's HOME", out)
	}
	if _, err := os.Stat(filepath.Join(out, "sasl_passwd")); err != nil {
		t.Errorf("the relay files are not in the saved out directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, ".local", "share", "sesame")); err == nil {
		t.Error("relay files went to the default out directory, not the saved one")
	}

	after, err := state.Store{Dir: stateDir}.Load(acct, region, domain)
	if err != nil || after == nil {
		t.Fatalf("the state file after the run: %+v, %v", after, err)
	}
	if got, want := jsonOf(t, after.Answers), jsonOf(t, before.Answers); got != want {
		t.Errorf("answers after the run = %s, want the saved %s", got, want)
	}
	if !after.Record.UserCreated || !after.Record.IdentityCreated || !slices.Contains(after.Record.KeysCreated, stateV1Key) {
		t.Errorf("record after the run lost what the fixture said sesame made: %+v", after.Record)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
