package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// The end-to-end cases of `sesame remove`, against the built binaries and
// sesame-sim, each compared through the AWS APIs (dumpAWS).
var removeCases = []safetyCase{
	{"remove after onboarding leaves the account and zone as before, keeping the operator's TXT values, MX and edited records; a rerun says nothing is left (exit 0)", removeRestoresAccount},
	{"remove without the saved setup while AWS holds sesame's user deletes nothing and exits 2 naming --state-dir", removeWithoutSetupLeavesWhatIsLeft},
	{"a remove killed after any of its deletions took effect finishes when run again, deleting nothing twice", removeInterruptedResumes},
	{"remove of a setup whose identity existed before leaves the identity", removeKeepsPreexistingIdentity},
	{"remove --dry-run changes nothing and shows the plan", removeDryRunChangesNothing},
	{"removing one region's setup of a shared SMTP user keeps the other region's key, policy and user", removeOneRegionKeepsTheOther},
	{"remove takes sesame's entry out of the Postfix --apply-postfix installed into, before the key, keeping the operator's lines, mode and a backup", removeTakesPostfixEntry},
	{"while main.cf still relays through SES the entry stays (pending, exit 3) and the saved setup with it; once relayhost points elsewhere the rerun takes it out", removeKeepsLiveRelayEntry},
}

// removePostfixConf is a Postfix configuration directory as a fresh
// install leaves it (no relayhost), whose password map already holds the
// operator's entry for another relay: --apply-postfix installs into it.
// Postfix does not run there (sesame says so instead of reloading).
func removePostfixConf(t *testing.T) (dir, theirs string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("--apply-postfix needs root")
	}
	master, err := os.ReadFile("/etc/postfix/master.cf")
	if _, perr := exec.LookPath("/usr/sbin/postconf"); err != nil || perr != nil {
		t.Skip("Postfix is not installed here")
	}
	dir = t.TempDir()
	os.Chmod(dir, 0o755)
	writeFile(t, filepath.Join(dir, "master.cf"), string(master))
	os.Mkdir(filepath.Join(dir, "queue"), 0o755)
	writeFile(t, filepath.Join(dir, "main.cf"), "compatibility_level = 3.6\nmyhostname = remove-test.localdomain\nqueue_directory = "+filepath.Join(dir, "queue")+"\n")
	theirs = "# this host's relays\n[smtp.other-relay.example]:587 bob:bobs-password\n"
	if err := os.WriteFile(filepath.Join(dir, "sasl_passwd"), []byte(theirs), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, theirs
}

// postmapQuery looks key up in dir's password map: its value, and whether
// the map has it.
func postmapQuery(t *testing.T, dir, key string) (string, bool) {
	t.Helper()
	out, err := exec.Command("/usr/sbin/postmap", "-c", dir, "-q", key, "hash:"+filepath.Join(dir, "sasl_passwd")).Output()
	return strings.TrimSpace(string(out)), err == nil
}

const removeSESEntry = "[email-smtp.us-east-1.amazonaws.com]:587"

// onboardIntoPostfix onboards example.com with --apply-postfix into conf
// and returns the key of sesame's entry there; the operator then makes the
// map readable by group postfix (mode 0640), which remove must keep.
func onboardIntoPostfix(t *testing.T, sim *simProc, home, out, conf string) string {
	t.Helper()
	removeMustRun(t, sim, home, append(removeOnboardArgs(out), "--apply-postfix", "--postfix-dir", conf)...)
	v, ok := postmapQuery(t, conf, removeSESEntry)
	if !ok {
		t.Fatalf("onboarding did not install sesame's entry into %s", conf)
	}
	key, _, _ := strings.Cut(v, ":")
	for _, p := range []string{"sasl_passwd", "sasl_passwd.db"} {
		if err := os.Chmod(filepath.Join(conf, p), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return key
}

// assertEntryOut checks that sesame's entry is out of conf's map and file,
// the operator's lines are there byte for byte, the mode stayed, and the
// file as it was is kept beside it.
func assertEntryOut(t *testing.T, conf, theirs, key string) {
	t.Helper()
	if got := readFile(t, filepath.Join(conf, "sasl_passwd")); got != theirs {
		t.Errorf("sasl_passwd after remove:\n%s\nwant the operator's lines byte for byte:\n%s", got, theirs)
	}
	if v, ok := postmapQuery(t, conf, removeSESEntry); ok {
		t.Errorf("the map still answers sesame's entry: %q", v)
	}
	if v, ok := postmapQuery(t, conf, "[smtp.other-relay.example]:587"); !ok || v != "bob:bobs-password" {
		t.Errorf("the operator's entry in the map = %q, %v", v, ok)
	}
	assertMode(t, filepath.Join(conf, "sasl_passwd"), 0o640)
	assertMode(t, filepath.Join(conf, "sasl_passwd.db"), 0o640)
	backups, _ := filepath.Glob(filepath.Join(conf, "sasl_passwd.sesame-*"))
	if !slices.ContainsFunc(backups, func(b string) bool { return strings.Contains(readFile(t, b), key) }) {
		t.Errorf("no backup of sasl_passwd holding sesame's entry among %v", backups)
	}
}

// One remove with --restore-postfix: main.cf is back as before sesame,
// the entry is out before the key is deleted, the account is as before
// onboarding.
func removeTakesPostfixEntry(t *testing.T) {
	conf, theirs := removePostfixConf(t)
	mainBefore := readFile(t, filepath.Join(conf, "main.cf"))
	sim := startSim(t)
	home := t.TempDir()
	before := sim.dumpAWS(t, "us-east-1")
	key := onboardIntoPostfix(t, sim, home, filepath.Join(home, "relay"), conf)

	r := removeMustRun(t, sim, home, append(removeArgs, "--restore-postfix")...)
	assertEntryOut(t, conf, theirs, key)
	if got := readFile(t, filepath.Join(conf, "main.cf")); got != mainBefore {
		t.Errorf("main.cf is not back as before sesame:\n%s", got)
	}
	out, del := strings.Index(r.stderr, "took sesame's entry"), strings.Index(r.stderr, "deleted access key "+key)
	if out < 0 || del < 0 || out > del {
		t.Errorf("the entry did not go before the key (entry at %d, key at %d):\n%s", out, del, r.stderr)
	}
	if after := sim.dumpAWS(t, "us-east-1"); !after.Equal(before) {
		t.Fatalf("after remove the account differs from before onboarding:\nwant:\n%s\ngot:\n%s", before, after)
	}
	if sf := removeSavedSetups(t, home); len(sf) != 0 {
		t.Errorf("saved setup still there: %v", sf)
	}
}

// Without --restore-postfix, main.cf still relays through SES: the entry
// stays (taking it out would make SES answer 530 and Postfix bounce the
// mail), the rest goes, remove exits 3 and keeps the saved setup; once
// the operator points relayhost elsewhere, the rerun takes the entry out.
func removeKeepsLiveRelayEntry(t *testing.T) {
	conf, theirs := removePostfixConf(t)
	sim := startSim(t)
	home := t.TempDir()
	key := onboardIntoPostfix(t, sim, home, filepath.Join(home, "relay"), conf)

	r := sim.sesame(t, home, removeArgs...)
	if r.code != 3 || !strings.Contains(r.stderr, "530") || !strings.Contains(r.stderr, "deferred") || !strings.Contains(r.stderr, "--restore-postfix") {
		t.Fatalf("remove with a live relay: exit %d, want 3 saying why the entry stays\n%s", r.code, r.stderr)
	}
	rep := parseReport(t, r)
	for _, s := range rep.Steps {
		if s.ID == "remove-postfix" && s.Status != "pending" {
			t.Errorf("remove-postfix = %s (%s), want pending", s.Status, s.Detail)
		}
	}
	if _, ok := postmapQuery(t, conf, removeSESEntry); !ok {
		t.Fatal("the entry of the live relay went")
	}
	if users := sim.dumpAWS(t, "us-east-1").Users; len(users) != 0 {
		t.Errorf("the SMTP user and its key stay with the entry: %v", users)
	}
	if sf := removeSavedSetups(t, home); len(sf) != 1 {
		t.Fatalf("the saved setup that names the entry went: %v", sf)
	}

	if out, err := exec.Command("/usr/sbin/postconf", "-c", conf, "-e", "relayhost = [smtp.other-relay.example]:587").CombinedOutput(); err != nil {
		t.Fatalf("postconf: %v: %s", err, out)
	}
	removeMustRun(t, sim, home, removeArgs...)
	assertEntryOut(t, conf, theirs, key)
	if sf := removeSavedSetups(t, home); len(sf) != 0 {
		t.Errorf("saved setup still there: %v", sf)
	}
}

func TestRemove(t *testing.T) {
	t.Parallel()
	for _, c := range removeCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each case has its own sim, HOME and Postfix directory
			c.run(t)
		})
	}
}

// removeChangeZone applies one Route 53 change batch to example.com's zone as
// the operator would in the console.
func (p *simProc) removeChangeZone(t *testing.T, changes ...r53types.Change) {
	t.Helper()
	ctx := context.Background()
	rc := route53.NewFromConfig(p.awsConfig("us-east-1"))
	zs, err := rc.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: aws.String("example.com")})
	if err != nil || len(zs.HostedZones) == 0 {
		t.Fatalf("find the zone: %v", err)
	}
	if _, err := rc.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: zs.HostedZones[0].Id, ChangeBatch: &r53types.ChangeBatch{Changes: changes},
	}); err != nil {
		t.Fatalf("change the zone: %v", err)
	}
}

func removeTXTSet(name string, ttl int64, values ...string) *r53types.ResourceRecordSet {
	rs := &r53types.ResourceRecordSet{Name: aws.String(name), Type: r53types.RRTypeTxt, TTL: aws.Int64(ttl)}
	for _, v := range values {
		rs.ResourceRecords = append(rs.ResourceRecords, r53types.ResourceRecord{Value: aws.String(v)})
	}
	return rs
}

func removeOnboardArgs(out string) []string {
	return []string{"--no-input", "--yes", "--json", "--domain", "example.com", "--region", "us-east-1", "--mail-from", "mail", "--dmarc", "--out", out}
}

var removeArgs = []string{"remove", "--no-input", "--yes", "--json", "--domain", "example.com", "--region", "us-east-1"}

func removeMustRun(t *testing.T, sim *simProc, home string, args ...string) result {
	t.Helper()
	r := sim.sesame(t, home, args...)
	if r.code != 0 {
		t.Fatalf("sesame %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func removeSavedSetups(t *testing.T, home string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(home, ".local", "state", "sesame", "*.json"))
	return m
}

// The operator's TXT set at the MAIL FROM name (an SPF record sesame adds
// include:amazonses.com to, and another value) comes back byte for byte,
// the apex MX and TXT are never touched, and the DMARC record the
// operator edited after onboarding stays as they edited it.
func removeRestoresAccount(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	out := filepath.Join(home, "relay")
	sim.removeChangeZone(t, r53types.Change{Action: r53types.ChangeActionCreate,
		ResourceRecordSet: removeTXTSet("mail.example.com", 600, `"v=spf1 ip4:192.0.2.1 ~all"`, `"operator-verification=xyz"`)})
	before := sim.dumpAWS(t, "us-east-1")

	removeMustRun(t, sim, home, removeOnboardArgs(out)...)
	onboarded := sim.dumpAWS(t, "us-east-1")
	if !slices.ContainsFunc(onboarded.Records, func(l string) bool {
		return strings.Contains(l, "mail.example.com. TXT") && strings.Contains(l, "include:amazonses.com")
	}) {
		t.Fatalf("onboarding did not merge include:amazonses.com into the operator's SPF:\n%s", onboarded)
	}
	// The operator edits the DMARC record sesame published.
	sim.removeChangeZone(t,
		r53types.Change{Action: r53types.ChangeActionDelete, ResourceRecordSet: removeTXTSet("_dmarc.example.com", 300, `"v=DMARC1; p=none;"`)},
		r53types.Change{Action: r53types.ChangeActionCreate, ResourceRecordSet: removeTXTSet("_dmarc.example.com", 300, `"v=DMARC1; p=reject;"`)})

	r := removeMustRun(t, sim, home, removeArgs...)
	if !strings.Contains(r.stdout+r.stderr, "_dmarc.example.com") {
		t.Errorf("the edited DMARC record is not listed as left alone:\n%s", r.stderr)
	}
	after := sim.dumpAWS(t, "us-east-1")
	want := before
	want.Records = slices.Clone(before.Records)
	want.Records = append(want.Records, `record example.com. _dmarc.example.com. TXT ["v=DMARC1; p=reject;"]`)
	slices.Sort(want.Records)
	if !after.Equal(want) {
		t.Fatalf("after remove the account differs from before onboarding (plus the operator's DMARC edit):\nwant:\n%s\ngot:\n%s", want, after)
	}
	for _, f := range []string{"sasl_passwd", "main.cf.snippet", "apply-postfix.sh"} {
		if _, err := os.Stat(filepath.Join(out, f)); err == nil {
			t.Errorf("%s is still there", f)
		}
	}
	if sf := removeSavedSetups(t, home); len(sf) != 0 {
		t.Errorf("saved setup still there: %v", sf)
	}
	removeRerunSaysNothingLeft(t, sim, home)
}

// removeRerunSaysNothingLeft reruns a remove that finished: plain, with
// --json, and naming only the domain (the region is the AWS
// configuration's). Each exits 0 saying nothing of sesame's is left, and
// writes nothing.
func removeRerunSaysNothingLeft(t *testing.T, sim *simProc, home string) {
	t.Helper()
	const line = "nothing of sesame's is left for example.com in account 123456789012/region us-east-1"
	n := len(sim.mutating())
	for _, args := range [][]string{
		{"remove", "--no-input", "--domain", "example.com", "--region", "us-east-1"},
		removeArgs,
		{"remove", "--no-input", "--yes", "--domain", "example.com"},
	} {
		r := sim.sesame(t, home, args...)
		if r.code != 0 || !strings.Contains(r.stdout+r.stderr, line) {
			t.Errorf("sesame %s after a finished remove: exit %d, want 0 saying %q\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, line, r.stdout, r.stderr)
			continue
		}
		if !slices.Contains(args, "--json") {
			continue
		}
		rep := parseReport(t, r)
		for _, s := range rep.Steps {
			switch {
			case s.Status != "done" && s.Status != "skipped":
				t.Errorf("--json: step %s is %s (%s)", s.ID, s.Status, s.Detail)
			case s.ID == "remove-state" && !strings.HasPrefix(s.Detail, line):
				t.Errorf("--json: remove-state says %q, want %q", s.Detail, line)
			case s.ID == "remove-dns" && !strings.Contains(s.Detail, "not checked"):
				t.Errorf("--json: remove-dns does not say it could not check: %q", s.Detail)
			}
		}
	}
	if m := sim.mutating(); len(m) != n {
		t.Errorf("the reruns wrote: %v", m[n:])
	}
	if sf := removeSavedSetups(t, home); len(sf) != 0 {
		t.Errorf("the reruns saved a setup: %v", sf)
	}
}

// The saved setup is not where remove looks (another --state-dir), and
// AWS still holds sesame's tagged SMTP user with this region's policy:
// remove deletes nothing and exits 2 naming --state-dir and the user.
func removeWithoutSetupLeavesWhatIsLeft(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	removeMustRun(t, sim, home, removeOnboardArgs(filepath.Join(home, "relay"))...)
	n := len(sim.mutating())
	r := sim.sesame(t, home, append(removeArgs, "--state-dir", t.TempDir())...)
	if r.code != 2 || !strings.Contains(r.stderr, "--state-dir") || !strings.Contains(r.stderr, "ses-smtp-example-com") {
		t.Fatalf("remove without the saved setup: exit %d, want 2 naming --state-dir and the user\n%s", r.code, r.stderr)
	}
	if m := sim.mutating(); len(m) != n {
		t.Errorf("remove without the saved setup wrote: %v", m[n:])
	}
}

// For each deletion of the removal, sesame is killed (SIGKILL) after AWS
// applied it and before sesame heard back (sesame-sim --hang-after): the
// saved setup is still there, and the next remove finishes the job with
// nothing deleted twice, leaving the account as before onboarding.
func removeInterruptedResumes(t *testing.T) {
	for _, op := range []struct{ service, name string }{
		{"sesv2", "DeleteEmailIdentity"}, {"iam", "DeleteAccessKey"}, {"iam", "DeleteUserPolicy"}, {"iam", "DeleteUser"},
	} {
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, "--hang-after", op.name)
			home := t.TempDir()
			out := filepath.Join(home, "relay")
			before := sim.dumpAWS(t, "us-east-1")
			removeMustRun(t, sim, home, removeOnboardArgs(out)...)

			run := sim.start(t, home, removeArgs...)
			sim.waitLog(t, 0, op.service+" "+op.name+" -")
			_ = run.cmd.Process.Signal(syscall.SIGKILL)
			run.wait(t)
			if sf := removeSavedSetups(t, home); len(sf) != 1 {
				t.Fatalf("the killed remove left no saved setup to resume from: %v", sf)
			}
			if _, err := os.Stat(filepath.Join(out, "sasl_passwd")); err != nil {
				t.Fatalf("files went before AWS was done with: %v", err)
			}

			removeMustRun(t, sim, home, removeArgs...)
			if n := sim.countApplied(op.name); n != 1 {
				t.Errorf("%s took effect %d times, want 1", op.name, n)
			}
			if after := sim.dumpAWS(t, "us-east-1"); !after.Equal(before) {
				t.Fatalf("after the resumed remove the account differs from before onboarding:\nwant:\n%s\ngot:\n%s", before, after)
			}
			if _, err := os.Stat(filepath.Join(out, "sasl_passwd")); err == nil {
				t.Error("sasl_passwd is still there")
			}
			if sf := removeSavedSetups(t, home); len(sf) != 0 {
				t.Errorf("saved setup still there: %v", sf)
			}
		})
	}
}

// The identity was made by the operator before sesame ran: remove takes
// the user, the DNS records and the files, and leaves the identity.
func removeKeepsPreexistingIdentity(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	out := filepath.Join(home, "relay")
	sc := sesv2.NewFromConfig(sim.awsConfig("us-east-1"))
	if _, err := sc.CreateEmailIdentity(context.Background(), &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com"),
		DkimSigningAttributes: &sestypes.DkimSigningAttributes{NextSigningKeyLength: sestypes.DkimSigningKeyLengthRsa2048Bit}}); err != nil {
		t.Fatal(err)
	}
	removeMustRun(t, sim, home, "--no-input", "--yes", "--json", "--domain", "example.com", "--region", "us-east-1", "--out", out)
	r := removeMustRun(t, sim, home, removeArgs...)
	rep := parseReport(t, r)
	for _, s := range rep.Steps {
		if s.ID == "remove-identity" && s.Status != "skipped" {
			t.Errorf("remove-identity = %s (%s), want skipped", s.Status, s.Detail)
		}
	}
	for _, m := range sim.mutating() {
		if strings.Contains(m, "DeleteEmailIdentity") {
			t.Fatalf("the operator's identity was deleted: %v", sim.mutating())
		}
	}
	after := sim.dumpAWS(t, "us-east-1")
	if len(after.Identities) != 1 || !strings.HasPrefix(after.Identities[0], "identity example.com") {
		t.Fatalf("identities after remove = %v", after.Identities)
	}
	if len(after.Users) != 0 {
		t.Errorf("users after remove = %v", after.Users)
	}
}

func removeDryRunChangesNothing(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	out := filepath.Join(home, "relay")
	removeMustRun(t, sim, home, removeOnboardArgs(out)...)
	n := len(sim.mutating())
	r := removeMustRun(t, sim, home, "remove", "--no-input", "--dry-run", "--domain", "example.com", "--region", "us-east-1")
	if m := sim.mutating(); len(m) != n {
		t.Fatalf("dry run wrote: %v", m[n:])
	}
	for _, want := range []string{"dry run", "iam-user", "ses-identity"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, r.stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "sasl_passwd")); err != nil {
		t.Errorf("dry run touched sasl_passwd: %v", err)
	}
	if len(removeSavedSetups(t, home)) != 1 {
		t.Error("dry run removed the saved setup")
	}
	// Without --yes and with --no-input the plan is shown and nothing happens (exit 2).
	if r := sim.sesame(t, home, "remove", "--no-input", "--domain", "example.com", "--region", "us-east-1"); r.code != 2 || !strings.Contains(r.stdout+r.stderr, "--yes") {
		t.Errorf("remove without --yes: exit %d, want 2 naming --yes\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if m := sim.mutating(); len(m) != n {
		t.Fatalf("remove without --yes wrote: %v", m[n:])
	}
}

// The domain is set up in us-east-1 and eu-west-1: one SMTP user, one
// key and one policy per region. Removing eu-west-1 leaves us-east-1's
// key, policy, identity and records; removing us-east-1 then leaves the
// account as it was before either.
func removeOneRegionKeepsTheOther(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	before := sim.dumpAWS(t, "us-east-1")
	removeMustRun(t, sim, home, removeOnboardArgs(filepath.Join(home, "east"))...)
	east := sim.dumpAWS(t, "us-east-1")
	eastKeys := sim.accessKeys(t, "ses-smtp-example-com")
	removeMustRun(t, sim, home, "--no-input", "--yes", "--json", "--domain", "example.com", "--region", "eu-west-1", "--mail-from", "", "--no-smtp-test", "--out", filepath.Join(home, "west"))
	if keys := sim.accessKeys(t, "ses-smtp-example-com"); len(keys) != 2 {
		t.Fatalf("two regions' setups hold keys %v, want two", keys)
	}

	r := removeMustRun(t, sim, home, "remove", "--no-input", "--yes", "--json", "--domain", "example.com", "--region", "eu-west-1")
	if keys := sim.accessKeys(t, "ses-smtp-example-com"); !slices.Equal(keys, eastKeys) {
		t.Fatalf("after removing eu-west-1 the user holds keys %v, want us-east-1's %v\n%s", keys, eastKeys, r.stderr)
	}
	if got := sim.dumpAWS(t, "us-east-1"); !got.Equal(east) {
		t.Fatalf("after removing eu-west-1, us-east-1's setup differs:\nwant:\n%s\ngot:\n%s", east, got)
	}
	if west := sim.dumpAWS(t, "eu-west-1"); len(west.Identities) != 0 {
		t.Errorf("eu-west-1 identities left: %v", west.Identities)
	}
	if s := sim.sesame(t, home, "status", "--json", "--domain", "example.com", "--region", "us-east-1"); s.code != 0 {
		t.Errorf("us-east-1's setup is no longer whole: status exit %d\n%s", s.code, s.stdout)
	}

	removeMustRun(t, sim, home, removeArgs...)
	if after := sim.dumpAWS(t, "us-east-1"); !after.Equal(before) {
		t.Fatalf("after removing both setups the account differs from before:\nwant:\n%s\ngot:\n%s", before, after)
	}
}
