package ui

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/state"
)

// noZoneRecords are the records of a domain without a hosted zone.
func noZoneRecords() []dns.Desired {
	var recs []dns.Desired
	for _, c := range dnsPlan().Changes {
		recs = append(recs, dns.Desired{Name: c.Name, Type: c.Type, TTL: 1800, Values: []string{strings.Trim(c.Value, `"`)}, Purpose: "DKIM"})
	}
	return recs
}

// endReport is a finished run on a real account, with the records the
// operator published by hand.
func endReport(records bool) *steps.Report {
	r := &steps.Report{Domain: "example.com", Region: "eu-west-1", Account: "123456789012",
		SMTP:    &steps.SMTPReport{Host: "email-smtp.eu-west-1.amazonaws.com", Port: 587, Username: "AKIAIOSFODNN7EXAMPLE"},
		Sandbox: &steps.SandboxReport{SendingEnabled: true, Max24HourSend: 200, MaxSendRate: 1},
		Files:   []string{"/home/alice/.local/share/sesame/example.com-eu-west-1/sasl_passwd", "/home/alice/.local/share/sesame/example.com-eu-west-1/apply-postfix.sh"},
	}
	for _, id := range defaultStepIDs {
		r.Steps = append(r.Steps, steps.StepReport{ID: id, Status: steps.StatusDone, Detail: id + " is done"})
	}
	if records {
		r.Records = noZoneRecords()
		r.Files = append(r.Files, "/home/alice/.local/share/sesame/example.com-eu-west-1/records.zone", "/home/alice/.local/share/sesame/example.com-eu-west-1/records.json")
	}
	return r
}

// noZoneWait is the run waiting for verification of records published
// by hand.
func noZoneWait() []tea.Msg {
	m := dns.NewManual(noZoneRecords())
	m.Files = []string{"/out/records.zone", "/out/records.json"}
	var vis []dns.Visibility
	for _, r := range m.Records {
		vis = append(vis, dns.Visibility{Name: r.Name, Type: r.Type, Expected: r.Values, State: "missing"})
	}
	return []tea.Msg{
		started("dns", "Publish the DNS records"),
		data("dns", m),
		finished("dns", steps.StatusSkipped, "no public hosted zone for example.com in this account: add these 6 records at your DNS host"),
		started("verification", "Wait for SES to verify the domain"),
		data("verification", &steps.VerificationProgress{Elapsed: 4e9, NextCheck: 6e9, Checks: 1, Status: "PENDING", DKIMStatus: "PENDING", Records: vis}),
	}
}

// TestScreensGolden keeps, as golden files, the screens whose content the
// operator must read whole: the no-zone records while verification waits
// and the end screens (regenerate with go test ./ui -update).
func TestScreensGolden(t *testing.T) {
	creds := &steps.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Host: "email-smtp.eu-west-1.amazonaws.com", Port: 587, Password: testPassword, File: "/home/alice/.local/share/sesame/example.com-eu-west-1/sasl_passwd"}
	tests := []struct {
		name string
		w, h int
		msgs []tea.Msg
	}{
		{"no-zone records 80x24", 80, 24, noZoneWait()},
		{"no-zone records 120x40", 120, 40, noZoneWait()},
		{"end 80x24", 80, 24, []tea.Msg{data("smtp-user", creds), runDoneMsg{report: endReport(false)}}},
		{"end with no-zone records 100x40", 100, 40, []tea.Msg{data("smtp-user", creds), data("dns", dns.NewManual(noZoneRecords())), runDoneMsg{report: endReport(true)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testModel(t, tt.w, tt.h)
			m.opts.Demo = false
			feed(m, tt.msgs...)
			v := view(m)
			assertFits(t, v, tt.w, tt.h)
			for _, r := range noZoneRecords() {
				if tt.name == "end 80x24" {
					break
				}
				for _, want := range []string{r.Name, r.Values[0]} {
					if !strings.Contains(v, want) {
						t.Errorf("the screen lacks %q whole:\n%s", want, v)
					}
				}
			}
			teatest.RequireEqualOutput(t, []byte(v))
		})
	}
}

// TestCopyKeys: z copies the records as zone-file lines wherever they are
// on screen, c the command the end screen says to run next; the help line
// offers each only where it works and says what was copied.
func TestCopyKeys(t *testing.T) {
	var got []string
	m := testModel(t, 80, 24)
	m.opts.Demo = false
	m.copyFn = func(s string) error { got = append(got, s); return nil }
	feed(m, noZoneWait()...)
	if !strings.Contains(view(m), "z copy records") {
		t.Errorf("the wait screen does not offer z:\n%s", view(m))
	}
	feed(m, keyRunes("z"))
	if len(got) != 1 || got[0] != m.manual.ZoneFile {
		t.Fatalf("z copied %q, want the zone-file lines", got)
	}
	if !strings.Contains(view(m), "copied the records") {
		t.Errorf("no word that the records were copied:\n%s", view(m))
	}
	feed(m, runDoneMsg{report: endReport(true)})
	feed(m, keyRunes("c"))
	want := "sudo sh /home/alice/.local/share/sesame/example.com-eu-west-1/apply-postfix.sh"
	if len(got) != 2 || got[1] != want {
		t.Fatalf("c copied %q, want %q", got, want)
	}
	v := view(m)
	if !strings.Contains(v, want) {
		t.Errorf("the end screen does not show the command whole:\n%s", v)
	}
}

// TestNextFollowsWhatHappened: the commands after a run are the ones that
// get it going again, by what stopped it.
func TestNextFollowsWhatHappened(t *testing.T) {
	rep := &steps.Report{Domain: "example.com", Region: "eu-west-1", Files: []string{"/out/apply-postfix.sh"}, Sandbox: &steps.SandboxReport{}}
	tests := []struct {
		name    string
		err     error
		want    []string
		notWant []string
	}{
		{"finished", nil, []string{"sudo sh /out/apply-postfix.sh", "sesame status", "sesame --request-production"}, nil},
		{"denied", &awsapi.Error{Op: "iam:CreateUser", Code: "AccessDenied", Err: errors.New("x")}, []string{"sesame policy", "sesame    # run again"}, []string{"--request-production", "sudo sh"}},
		{"locked", &state.ErrLocked{Path: "/s/x.lock", Holder: "pid 1"}, []string{"wait for the other sesame", "sesame    # run again"}, []string{"--request-production"}},
		{"no credentials", &awsapi.Error{Op: "sts:GetCallerIdentity", Hint: "sesame found no AWS credentials: set AWS_PROFILE", Err: errors.New("x")}, []string{"aws configure", "sesame --demo"}, []string{"--request-production"}},
		{"interrupted", context.Canceled, []string{"sesame    # run again"}, []string{"sesame status", "--request-production"}},
		{"declined", steps.ErrDeclined, []string{"see the plan again"}, []string{"--request-production"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(nextCommands(rep, tt.err), "\n")
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Next lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("Next has %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestSummaryIdentityLineIsCurrent: once verification is done, the
// identity's line says verified, not the "not verified yet" of its check.
func TestSummaryIdentityLineIsCurrent(t *testing.T) {
	rep := endReport(false)
	rep.Steps[2].Detail = "example.com is an SES identity in eu-west-1, not verified yet (DKIM PENDING): its DNS records come next"
	var b strings.Builder
	PrintSummary(&b, rep, nil, false)
	if s := b.String(); strings.Contains(s, "not verified yet") || !strings.Contains(s, "verified for sending") {
		t.Errorf("stale identity line:\n%s", s)
	}
}

// TestSandboxLimitsFromQuota: the sandbox's limits are the account's own
// quota, as SES reports it, on screen and in the summary.
func TestSandboxLimitsFromQuota(t *testing.T) {
	r := &steps.SandboxReport{SendingEnabled: true, Max24HourSend: 1000, MaxSendRate: 14}
	want := "1,000 messages a day and 14 a second"
	if got := strings.Join(sandboxLines(r), " "); !strings.Contains(got, want) || strings.Contains(got, "200") {
		t.Errorf("sandbox lines %q, want %q", got, want)
	}
	var b strings.Builder
	PrintSummary(&b, &steps.Report{Domain: "example.com", Sandbox: r}, nil, false)
	if !strings.Contains(b.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, b.String())
	}
}

// TestKeyBurstIsEachKey: keys pressed faster than they are read arrive as
// one message ("jjj"); outside a text field each one counts.
func TestKeyBurstIsEachKey(t *testing.T) {
	m := testModel(t, 60, 20)
	feed(m, started("dns", "Publish the DNS records"),
		promptMsg{kind: promptConfirm, q: steps.Question{ID: "approve-dns", Step: "dns", Title: "Apply this plan?", Default: "y", Plan: dnsPlan()}, reply: make(chan promptReply, 1)})
	view(m)
	feed(m, keyRunes("jjj"))
	if m.scroll != 3 {
		t.Errorf("scroll %d after jjj, want 3", m.scroll)
	}
}

// TestSummaryHangingWrap: the scrollback summary wraps to the terminal at
// spaces, each continuation indented under the start of its text.
func TestSummaryHangingWrap(t *testing.T) {
	tests := []struct {
		s     string
		width int
		want  []string
	}{
		{"✓ relay         Postfix relay files for [email-smtp.us-east-1.amazonaws.com]:587 in /home/alice/out", 60,
			[]string{"✓ relay         Postfix relay files for", "                [email-smtp.us-east-1.amazonaws.com]:587 in", "                /home/alice/out"}},
		{"  in the SES sandbox: only verified recipients, at most 200 messages a day", 40,
			[]string{"  in the SES sandbox: only verified", "  recipients, at most 200 messages a day"}},
		{"short", 40, []string{"short"}},
	}
	for _, tt := range tests {
		got := hangingWrap(tt.s, tt.width)
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("hangingWrap(%q, %d) =\n%s\nwant\n%s", tt.s, tt.width, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
	}
}

// TestSummaryKeepsLongPaths: a path wider than the terminal is printed
// whole on its line in the scrollback, never broken.
func TestSummaryKeepsLongPaths(t *testing.T) {
	path := "/tmp/TestTUINoZoneRecordsInFull3071936578/002/data/sesame/nozone.example-us-east-1/sasl_passwd"
	got := hangingWrap("  "+path, 80)
	if len(got) != 1 || got[0] != "  "+path {
		t.Errorf("hangingWrap broke the path: %q", got)
	}
}

// TestTooSmallSaysSo: a terminal smaller than the layout gets words, not
// a screen of ellipses, and grows back into the full screen.
func TestTooSmallSaysSo(t *testing.T) {
	m := testModel(t, 30, 8)
	feed(m, started("dns", "Publish the DNS records"))
	v := view(m)
	if !strings.Contains(strings.Join(strings.Fields(v), " "), "sesame needs a terminal of at least 40x12; this one is 30x8") {
		t.Errorf("30x8 does not say it is too small:\n%s", v)
	}
	assertFits(t, v+strings.Repeat("\n", 8-1-strings.Count(v, "\n")), 30, 8)
	feed(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	if v := view(m); !strings.Contains(v, "Publish the DNS records") {
		t.Errorf("back at 80x24 the step is not shown:\n%s", v)
	}
}

// TestSlowCallSaysHowLong: a step whose AWS call takes long shows how long
// it has waited and in which phase.
func TestSlowCallSaysHowLong(t *testing.T) {
	now := t0
	m := testModel(t, 80, 24)
	m.now = func() time.Time { return now }
	feed(m, started("identity", "Create the SES identity"), eventMsg{Kind: steps.EventApplying, Step: "identity"})
	if v := view(m); strings.Contains(v, "waiting for AWS") {
		t.Errorf("a fresh call already says it waits:\n%s", v)
	}
	now = now.Add(42 * time.Second)
	if v := view(m); !strings.Contains(v, "applying the plan: waiting for AWS for 42s") {
		t.Errorf("a call of 42 s does not say so:\n%s", v)
	}
}

// TestDryRunKeepsPlans: a dry run wears a DRY RUN badge, and its plans
// stay on the end screen.
func TestDryRunKeepsPlans(t *testing.T) {
	m := testModel(t, 100, 40)
	m.opts.DryRun = true
	feed(m, started("dns", "Publish the DNS records"), eventMsg{Kind: steps.EventPlan, Step: "dns", Plan: dnsPlan()},
		finished("dns", steps.StatusTodo, "dry run: create 4 records"), runDoneMsg{report: endReport(false)})
	v := view(m)
	for _, want := range []string{"DRY RUN", "nothing was changed", "dns: create 4 records, merge 1", "abcdefghijklmnopqrstuvwxyz234567._domainkey.example.com"} {
		if !strings.Contains(v, want) {
			t.Errorf("dry-run end screen lacks %q:\n%s", want, v)
		}
	}
}

// TestRegionListNamesAndFilters: the region list shows each region's name
// and narrows as the operator types; Enter takes the one highlighted.
func TestRegionListNamesAndFilters(t *testing.T) {
	var opts []steps.Option
	for _, r := range []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-west-1", "eu-west-2", "eu-central-1", "ap-south-1", "ap-northeast-1"} {
		opts = append(opts, steps.Option{Value: r, Label: r})
	}
	m := testModel(t, 80, 24)
	reply := make(chan promptReply, 1)
	feed(m, promptMsg{kind: promptChoose, q: steps.Question{ID: "region", Title: "Which SES region?", Flag: "--region", Default: "us-east-1"}, options: opts, reply: reply})
	v := view(m)
	for _, want := range []string{"eu-west-1       Europe (Ireland)", "us-east-1       US East (N. Virginia)", "type to filter", "(next time: --region)"} {
		if !strings.Contains(v, want) {
			t.Errorf("region list lacks %q:\n%s", want, v)
		}
	}
	feed(m, keyRunes("irel"))
	v = view(m)
	if !strings.Contains(v, "filter: irel") || strings.Contains(v, "us-east-1") || !strings.Contains(v, "› eu-west-1") {
		t.Errorf("typing irel does not narrow the list to eu-west-1:\n%s", v)
	}
	feed(m, tea.KeyMsg{Type: tea.KeyEnter})
	if got := <-reply; got.value != "eu-west-1" {
		t.Errorf("Enter chose %q, want eu-west-1", got.value)
	}
}

// TestUseCaseIsMultiLine: the use case is a field that wraps what is
// typed, so a long answer can be read whole; Enter submits it.
func TestUseCaseIsMultiLine(t *testing.T) {
	m := testModel(t, 60, 20)
	reply := make(chan promptReply, 1)
	feed(m, promptMsg{kind: promptInput, q: steps.Question{ID: "use-case", Title: "How will you send mail, and to whom?", Flag: "--use-case"}, reply: reply})
	text := "We send password resets and order receipts to customers who signed up on our shop; bounces remove the address."
	feed(m, keyRunes(text))
	v := view(m)
	flat := strings.Join(strings.Fields(strings.ReplaceAll(v, "│", "")), " ")
	if !strings.Contains(flat, text) {
		t.Errorf("the answer is not all on screen:\n%s", v)
	}
	if !strings.Contains(v, "alt+enter new line") {
		t.Errorf("no word on how to start a new line:\n%s", v)
	}
	feed(m, tea.KeyMsg{Type: tea.KeyEnter})
	if got := <-reply; got.value != text {
		t.Errorf("submitted %q", got.value)
	}
}

// TestChoiceDetailWrapsWhole: an option's detail too long for the line
// wraps at spaces under itself, never inside a word.
func TestChoiceDetailWrapsWhole(t *testing.T) {
	m := testModel(t, 80, 24)
	feed(m, started("sandbox", "Report the SES sending status"),
		promptMsg{kind: promptChoose, q: steps.Question{ID: "mail-type", Step: "sandbox", Title: "What mail will you send?"}, options: []steps.Option{
			{Value: "TRANSACTIONAL", Label: "Transactional", Detail: "receipts, password resets, alerts: mail a recipient expects"},
			{Value: "MARKETING", Label: "Marketing", Detail: "newsletters and promotions"}}, reply: make(chan promptReply, 1)})
	v := view(m)
	if !strings.Contains(v, "recipient") {
		t.Errorf("a word of the detail is broken:\n%s", v)
	}
}

// TestResumedSetupNamesItsDomain: picking a saved setup puts its domain
// and region in the header at once.
func TestResumedSetupNamesItsDomain(t *testing.T) {
	m := newModel(context.Background(), TUIOptions{}, nil, asciiRenderer(), false, fixedNow)
	m.cancel = func() {}
	feed(m, tea.WindowSizeMsg{Width: 80, Height: 24},
		promptMsg{kind: promptChoose, q: steps.Question{ID: "resume", Title: "Resume a setup?", Flag: "--domain", Default: "0"}, options: []steps.Option{
			{Value: "0", Label: "shop.example in eu-west-1", Detail: "account 123456789012"}, {Value: "new", Label: "Set up another domain"}}, reply: make(chan promptReply, 1)},
		tea.KeyMsg{Type: tea.KeyEnter})
	if first := strings.SplitN(view(m), "\n", 2)[0]; !strings.Contains(first, "shop.example") || !strings.Contains(first, "eu-west-1") {
		t.Errorf("the header does not name the resumed setup: %q", first)
	}
}

// TestSlowCallNamesTheCall: a call reported slow is named with how long
// it has waited, and the line goes once the call ends.
func TestSlowCallNamesTheCall(t *testing.T) {
	now := t0
	m := testModel(t, 80, 24)
	m.now = func() time.Time { return now }
	feed(m, started("identity", "Create the SES identity"), eventMsg{Kind: steps.EventApplying, Step: "identity"})
	now = now.Add(12 * time.Second)
	feed(m, data("", &steps.SlowCall{Service: "SESv2", Operation: "CreateEmailIdentity", Started: t0.Add(time.Second)}))
	if v := view(m); !strings.Contains(v, "applying the plan: waiting for SESv2 CreateEmailIdentity for") || !strings.Contains(v, "11s") {
		t.Errorf("the slow call is not named:\n%s", v)
	}
	feed(m, data("", &steps.SlowCall{Service: "SESv2", Operation: "CreateEmailIdentity", Done: true}))
	if v := view(m); strings.Contains(v, "CreateEmailIdentity") {
		t.Errorf("the call's line stays after it ended:\n%s", v)
	}
}

// TestHangingWrapStyled: a styled line (the chosen option of a list, with
// its detail) wraps with each word once; cutting it at the line's width
// added a reset code that matched no prefix of the line, and the whole
// line came again under its first part.
func TestHangingWrapStyled(t *testing.T) {
	st := DefaultStyles(forcedRenderer(io.Discard, true))
	line := st.Selected.Render("› To the SES mailbox simulator") + "  " + st.Dim.Render("success@simulator.amazonses.com accepts it; no inbox needed")
	for _, w := range []int{60, 80} {
		got := ansi.Strip(strings.Join(hangingWrap(line, w), "\n"))
		if n := strings.Count(got, "To the SES mailbox simulator"); n != 1 || !strings.HasSuffix(got, "needed") {
			t.Errorf("at %d columns the label shows %d times:\n%s", w, n, got)
		}
		for _, l := range hangingWrap(line, w) {
			if ansi.StringWidth(l) > w {
				t.Errorf("at %d columns a line is %d wide: %q", w, ansi.StringWidth(l), ansi.Strip(l))
			}
		}
	}
}
