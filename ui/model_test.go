package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/dns"
)

// testModel is a model at 80x24 that is fed messages directly, without a run.
func testModel(t testing.TB, w, h int) *model {
	t.Helper()
	m := newModel(context.Background(), TUIOptions{Demo: true, Domain: "example.com", Region: "eu-west-1"}, nil, asciiRenderer(), false, fixedNow)
	m.cancel = func() {}
	m.copyFn = func(string) error { return nil } // as RunTUI's OSC 52
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

func feed(m *model, msgs ...tea.Msg) {
	for _, msg := range msgs {
		m.Update(msg)
	}
}

func keyRunes(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

func view(m *model) string { return ansi.Strip(m.View()) }

func started(id, title string) tea.Msg {
	return eventMsg{Kind: steps.EventStepStarted, Step: id, Title: title}
}

func finished(id string, st steps.Status, detail string) tea.Msg {
	return eventMsg{Kind: steps.EventStepFinished, Step: id, Status: st, Detail: detail}
}

func data(id string, d any) tea.Msg { return eventMsg{Kind: steps.EventData, Step: id, Data: d} }

func TestModelViews(t *testing.T) {
	creds := &steps.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Host: "email-smtp.eu-west-1.amazonaws.com", Port: 587, Password: testPassword, File: "/out/sasl_passwd"}
	tests := []struct {
		name    string
		msgs    []tea.Msg
		want    []string
		notWant []string
	}{
		{
			name: "question with a refused answer",
			msgs: []tea.Msg{
				promptMsg{kind: promptInput, q: steps.Question{ID: "domain", Title: "Domain to send from", Flag: "--domain"}, validate: validateDomain, reply: make(chan promptReply, 1)},
				keyRunes("exa"), tea.KeyMsg{Type: tea.KeyEnter},
			},
			want: []string{"Domain to send from", "> exa", "a domain looks like example.com", "enter submit", "ctrl+c quit"},
		},
		{
			name: "the header shows the domain as sesame will use it",
			msgs: []tea.Msg{
				promptMsg{kind: promptInput, q: steps.Question{ID: "domain", Title: "Domain to send from", Flag: "--domain"}, validate: validateDomain, reply: make(chan promptReply, 1)},
				keyRunes("Bücher.Example"), tea.KeyMsg{Type: tea.KeyEnter},
			},
			want:    []string{"xn--bcher-kva.example"},
			notWant: []string{"Bücher"},
		},
		{
			name: "plan",
			msgs: []tea.Msg{
				started("dns", "Publish the DNS records"),
				promptMsg{kind: promptConfirm, q: steps.Question{ID: "approve-dns", Step: "dns", Title: "Apply this plan?", Default: "y", Plan: dnsPlan()}, reply: make(chan promptReply, 1)},
			},
			// The plan does not fit a table at 80 columns: each change is a
			// block, every name and value whole.
			want:    []string{"ACTION", "TYPE", "NAME, then its value", "CNAME", "create", "merge", "unchanged", "Apply this plan? [Y/n]", "y/enter approve", "n/esc decline", "_dmarc.example.com", "abcdefghijklmnopqrstuvwxyz234567._domainkey.example.com", "abcdefghijklmnopqrstuvwxyz234567.dkim.amazonses.com", `"v=spf1 include:_spf.google.com include:amazonses.com ~all"`},
			notWant: []string{"…"},
		},
		{
			name: "waiting for verification",
			msgs: []tea.Msg{
				started("inbound-mx", "Leave inbound mail alone"),
				eventMsg{Kind: steps.EventWarning, Step: "inbound-mx", Detail: "publishing SES's inbound MX would replace every MX record"},
				data("inbound-mx", &steps.MXReport{Domain: "example.com", Records: []string{"10 mx1.example.net."}}),
				finished("inbound-mx", steps.StatusSkipped, "MX left alone"),
				started("verification", "Wait for SES to verify the domain"),
				data("verification", &steps.VerificationProgress{Elapsed: 65e9, NextCheck: 10e9, Checks: 3, Status: "PENDING", DKIMStatus: "PENDING",
					Records: []dns.Visibility{{Name: "tok._domainkey.example.com", Type: "CNAME", Expected: []string{"tok.dkim.amazonses.com."}, State: "missing"}}}),
			},
			want: []string{"elapsed 1m05s", "next check in 10s", "check 3", "◷ CNAME tok._domainkey  missing", "    want tok.dkim.amazonses.com.", "q leaves; the demo account ends with this process.",
				"⚠ inbound-mx", "! publishing SES's inbound MX", "MX records of example.com that stay:", "  10 mx1.example.net."},
		},
		{
			name: "sandbox",
			msgs: []tea.Msg{
				started("sandbox", "Report the sending status"),
				data("sandbox", &steps.SandboxReport{SendingEnabled: true, Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: 50, ReviewStatus: "PENDING", CaseID: "case-42"}),
			},
			want: []string{"Sandbox: SES delivers only to verified addresses", "554 Message rejected", "sent per 24 h", "50/200", "review: pending, case case-42", "1 a second"},
		},
		{
			name: "error",
			msgs: []tea.Msg{
				started("dns", "Publish the DNS records"),
				eventMsg{Kind: steps.EventStepFinished, Step: "dns", Status: steps.StatusFailed, Err: errors.New("x")},
				runDoneMsg{err: &awsapi.Error{Op: "route53:ChangeResourceRecordSets", Code: "AccessDenied", Message: "not authorized", Hint: "ask your AWS administrator"}},
			},
			want:    []string{"✗ Publish the DNS records failed", "route53:ChangeResourceRecordSets failed: AWS answered", "Next: ask your AWS administrator", "r retry", "✗ dns"},
			notWant: []string{"→"},
		},
		{
			name: "summary with credentials masked",
			msgs: []tea.Msg{
				started("smtp-user", "Create SMTP credentials"),
				data("smtp-user", creds),
				finished("smtp-user", steps.StatusDone, "ok"),
				runDoneMsg{report: &steps.Report{Domain: "example.com", Region: "eu-west-1", Files: []string{"/out/sasl_passwd", "/out/apply-postfix.sh"}}},
			},
			want:    []string{"✓ Finished", "SMTP username AKIAIOSFODNN7EXAMPLE", "SMTP password ••••••••", "p show password", "sudo sh /out/apply-postfix.sh", "sesame status", "Files written in", "  /out", "sasl_passwd, apply-postfix.sh"},
			notWant: []string{testPassword[:12]},
		},
		{
			name: "demo summary says the files are not to install",
			msgs: []tea.Msg{
				runDoneMsg{report: &steps.Report{Domain: "example.com", Region: "eu-west-1", Demo: true, Files: []string{"/tmp/sesame-demo-1/relay/sasl_passwd", "/tmp/sesame-demo-1/relay/apply-postfix.sh"}}},
			},
			want:    []string{"✓ Finished", "These are demo files", "do not install them into Postfix", "sesame"},
			notWant: []string{"sudo sh", "sesame status"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testModel(t, 80, 24)
			feed(m, tt.msgs...)
			v := view(m)
			for _, w := range tt.want {
				if !strings.Contains(v, w) {
					t.Errorf("view lacks %q:\n%s", w, v)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(v, w) {
					t.Errorf("view has %q:\n%s", w, v)
				}
			}
			assertFits(t, v, 80, 24)
		})
	}
}

// assertFits checks that no line is wider than the terminal and that the
// screen is exactly as tall, so nothing wraps or scrolls.
func assertFits(t testing.TB, v string, w, h int) {
	t.Helper()
	lines := strings.Split(v, "\n")
	if len(lines) != h {
		t.Errorf("view has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("line %d is %d cells wide (max %d): %q", i, n, w, l)
		}
	}
}

// TestShortScreens checks what must stay in view when the terminal is
// small: the whole plan being approved, the MX records that stay while
// verification waits, and every field of the production-access request.
func TestShortScreens(t *testing.T) {
	warning := "SES's inbound MX (10 inbound-smtp.eu-west-1.amazonaws.com) is not published on purpose: it would replace every MX record of example.com and send all its incoming mail to SES, where it is not delivered to your mailboxes. sesame never writes an MX record at the domain itself."
	var recs []dns.Visibility
	for _, c := range dnsPlan().Changes {
		recs = append(recs, dns.Visibility{Name: c.Name, Type: c.Type, Expected: []string{c.Value}, State: "visible"})
	}
	waiting := []tea.Msg{
		started("inbound-mx", "Leave inbound mail alone"),
		eventMsg{Kind: steps.EventWarning, Step: "inbound-mx", Detail: warning},
		data("inbound-mx", &steps.MXReport{Domain: "example.com", Records: []string{"10 mx1.mail-provider.example.", "20 mx2.mail-provider.example."}}),
		finished("inbound-mx", steps.StatusSkipped, "MX left alone"),
		started("verification", "Wait for SES to verify the domain"),
		eventMsg{Kind: steps.EventStepChecked, Step: "verification", Detail: "applying: wait for SES to verify example.com"},
		data("verification", &steps.VerificationProgress{Elapsed: 4e9, NextCheck: 6e9, Checks: 1, Status: "PENDING", DKIMStatus: "PENDING", Records: recs}),
	}
	request := &steps.Plan{Summary: "request SES production access in eu-west-1", NeedsApproval: true, Changes: []steps.Change{{
		Action: steps.ActionRequest, Resource: "account", Name: "SES production access in eu-west-1",
		Value: "mail type: TRANSACTIONAL\nwebsite: https://www.example.com/about/our-company\nuse case: We send password resets and order receipts to customers who signed up on our website; bounces remove the address.\ncontact language: EN\ncontacts: postmaster@example.com, ops@example.com",
		Note:  "AWS reviews the request, usually within a day"}}}
	testMailOffer := []tea.Msg{
		started("verification", "Wait for SES to verify the domain"),
		finished("verification", steps.StatusDone, "SES has verified example.com for sending"),
		started("sandbox", "Report the SES sending status"),
		data("sandbox", &steps.SandboxReport{SendingEnabled: true, Max24HourSend: 200, MaxSendRate: 1}),
		promptMsg{kind: promptChoose, q: steps.Question{ID: "test-mail", Step: "sandbox", Title: "Send a test message once the relay works?",
			Detail: "After the SMTP login test, sesame can send one message through SES, so you see mail go out. SES's mailbox simulator takes it with no inbox to check.",
			Flag:   "--test-to", Default: "simulator"}, options: []steps.Option{
			{Value: "simulator", Label: "SES mailbox simulator", Detail: "success@simulator.amazonses.com"},
			{Value: "own", Label: "An address of yours", Detail: "SES mails it a link to open first"},
			{Value: "none", Label: "No test message"},
		}, reply: make(chan promptReply, 1)},
	}
	tests := []struct {
		name string
		w, h int
		msgs []tea.Msg
		want []string
	}{
		{"waiting at 80x24 lists every record and the MX records", 80, 24, waiting,
			[]string{"✓ CNAME abcdefghijklmnopqrstuvwxy", "✓ TXT   _dmarc", "! SES's inbound MX", "MX records of example.com that stay:", "  10 mx1.mail-provider.example.", "  20 mx2.mail-provider.example.", "q leaves"}},
		{"waiting at 60x20 keeps the MX records", 60, 20, waiting,
			[]string{"elapsed 4s", "6 of 6 records visible in DNS", "! SES's inbound MX", "MX records of example.com that stay:", "  10 mx1.mail-provider.example.", "  20 mx2.mail-provider.example.", "q leaves"}},
		{"a long confirm question wraps at 60 columns", 60, 20, []tea.Msg{
			promptMsg{kind: promptConfirm, q: steps.Question{ID: "dmarc", Title: "Publish a DMARC record (p=none) if the domain has none?", Default: "n"}, reply: make(chan promptReply, 1)},
		}, []string{"Publish a DMARC record", "[y/N]"}},
		// The note under a question (verification's moment) gives way
		// on a short screen: it took the question's last line, the flag.
		{"the test-mail offer at 60x20 keeps its choices and its flag", 60, 20, testMailOffer, []string{
			"Send a test message once the relay works?", "› SES mailbox simulator  success@simulator.amazonses.com", "An address of yours", "No test message", "(next time: --test-to)"}},
		{"the test-mail offer at 80x24 keeps verification's moment", 80, 24, testMailOffer, []string{
			"Send a test message once the relay works?", "(next time: --test-to)", "✓ SES verified example.com"}},
		{"production request review shows every field", 80, 24, []tea.Msg{
			started("sandbox", "Report the SES sending status"),
			promptMsg{kind: promptConfirm, q: steps.Question{ID: "approve-sandbox", Step: "sandbox", Title: "Apply this plan?", Default: "y", Plan: request}, reply: make(chan promptReply, 1)},
		}, []string{"mail type: TRANSACTIONAL", "website: https://www.example.com/about/our-company", "use case: We send password resets", "customers who signed up", "contact language: EN", "contacts: postmaster@example.com, ops@example.com", "Apply this plan? [Y/n]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testModel(t, tt.w, tt.h)
			feed(m, tt.msgs...)
			v := view(m)
			for _, w := range tt.want {
				if !strings.Contains(v, w) {
					t.Errorf("view lacks %q:\n%s", w, v)
				}
			}
			assertFits(t, v, tt.w, tt.h)
		})
	}
}

// TestPlanReadWhole: a plan taller or wider than the screen is never cut:
// each name and value shows whole on some screen as the operator scrolls
// with ↓, the question and its keys stay in view, and nothing is wider
// than the terminal.
func TestPlanReadWhole(t *testing.T) {
	for _, size := range [][2]int{{60, 20}, {80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			m := testModel(t, size[0], size[1])
			feed(m, started("dns", "Publish the DNS records"),
				promptMsg{kind: promptConfirm, q: steps.Question{ID: "approve-dns", Step: "dns", Title: "Apply this plan?", Default: "y", Plan: dnsPlan()}, reply: make(chan promptReply, 1)})
			seen := ""
			for range 30 {
				v := view(m)
				assertFits(t, v, size[0], size[1])
				for _, w := range []string{"Apply this plan? [Y/n]", "y/enter approve"} {
					if !strings.Contains(v, w) {
						t.Fatalf("view lacks %q:\n%s", w, v)
					}
				}
				if body := v[:strings.LastIndex(v, "\n")]; strings.Contains(body, "…") { // the help line may end in … (? shows all)
					t.Fatalf("something is cut:\n%s", v)
				}
				seen += v
				feed(m, tea.KeyMsg{Type: tea.KeyDown})
			}
			for _, c := range dnsPlan().Changes {
				// A value wider than the screen itself may wrap, at its
				// spaces only: compared with the whitespace collapsed.
				flat := strings.Join(strings.Fields(seen), " ")
				for _, want := range []string{c.Name, strings.TrimSpace(c.Value)} {
					if !strings.Contains(flat, strings.Join(strings.Fields(want), " ")) {
						t.Errorf("no screen shows %q whole:\n%s", want, seen)
					}
				}
			}
		})
	}
}

func TestRevealPassword(t *testing.T) {
	m := testModel(t, 80, 24)
	feed(m, started("smtp-user", "Create SMTP credentials"),
		data("smtp-user", &steps.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Password: testPassword, File: "/out/sasl_passwd"}))
	if strings.Contains(view(m), testPassword) {
		t.Fatal("the password shows before the operator asks")
	}
	feed(m, keyRunes("p"))
	if !strings.Contains(view(m), testPassword) {
		t.Fatalf("p does not reveal the password:\n%s", view(m))
	}
	feed(m, keyRunes("p"))
	if strings.Contains(view(m), testPassword) {
		t.Fatal("a second p does not hide the password again")
	}
}

func TestPromptAnswers(t *testing.T) {
	opts := []steps.Option{{Value: "us-east-1"}, {Value: "eu-west-1"}, {Value: "eu-central-1"}}
	tests := []struct {
		name string
		p    promptMsg
		keys []tea.Msg
		want promptReply
	}{
		{"confirm y", promptMsg{kind: promptConfirm, q: steps.Question{Default: "n"}}, []tea.Msg{keyRunes("y")}, promptReply{yes: true}},
		{"confirm enter takes the default", promptMsg{kind: promptConfirm, q: steps.Question{Default: "n"}}, []tea.Msg{tea.KeyMsg{Type: tea.KeyEnter}}, promptReply{yes: false}},
		{"confirm esc declines", promptMsg{kind: promptConfirm, q: steps.Question{Default: "y"}}, []tea.Msg{tea.KeyMsg{Type: tea.KeyEsc}}, promptReply{yes: false}},
		{"choose starts at the default", promptMsg{kind: promptChoose, q: steps.Question{Default: "eu-west-1"}, options: opts}, []tea.Msg{tea.KeyMsg{Type: tea.KeyDown}, tea.KeyMsg{Type: tea.KeyEnter}}, promptReply{value: "eu-central-1"}},
		{"choose by number", promptMsg{kind: promptChoose, options: opts}, []tea.Msg{keyRunes("1"), tea.KeyMsg{Type: tea.KeyEnter}}, promptReply{value: "us-east-1"}},
		{"input after a refused answer", promptMsg{kind: promptInput, validate: validateDomain}, []tea.Msg{keyRunes("exa"), tea.KeyMsg{Type: tea.KeyEnter}, keyRunes("mple.com"), tea.KeyMsg{Type: tea.KeyEnter}}, promptReply{value: "example.com"}},
		{"input q is typed, not quit", promptMsg{kind: promptInput}, []tea.Msg{keyRunes("q.example"), tea.KeyMsg{Type: tea.KeyEnter}}, promptReply{value: "q.example"}},
		{"input empty takes the default", promptMsg{kind: promptInput, q: steps.Question{Default: "mail"}}, []tea.Msg{tea.KeyMsg{Type: tea.KeyEnter}}, promptReply{value: "mail"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testModel(t, 80, 24)
			tt.p.reply = make(chan promptReply, 1)
			feed(m, tt.p)
			feed(m, tt.keys...)
			select {
			case got := <-tt.p.reply:
				if got != tt.want {
					t.Fatalf("reply %+v, want %+v", got, tt.want)
				}
			default:
				t.Fatalf("no reply; view:\n%s", view(m))
			}
			if m.prompt != nil {
				t.Fatal("the question stays on screen after the answer")
			}
		})
	}
}

func TestResize(t *testing.T) {
	m := testModel(t, 80, 24)
	feed(m, started("dns", "Publish the DNS records"),
		promptMsg{kind: promptConfirm, q: steps.Question{Title: "Apply this plan?", Default: "y", Plan: dnsPlan()}, reply: make(chan promptReply, 1)})
	wide := view(m)
	assertFits(t, wide, 80, 24)
	for _, size := range [][2]int{{60, 20}, {60, 24}, {100, 30}} {
		feed(m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		v := view(m)
		assertFits(t, v, size[0], size[1])
		for _, w := range []string{"Apply this plan? [Y/n]", "y/enter approve"} {
			if !strings.Contains(v, w) {
				t.Errorf("%dx%d: view lacks %q:\n%s", size[0], size[1], w, v)
			}
		}
	}
	feed(m, tea.WindowSizeMsg{Width: 60, Height: 20})
	if v := view(m); !strings.Contains(v, "step 4 of 8: dns") || strings.Contains(v, "│") {
		t.Errorf("60 columns should put the step list on one line:\n%s", v)
	}
}

func TestQuitCancelsAndWaits(t *testing.T) {
	m := testModel(t, 80, 24)
	cancelled := false
	m.cancel = func() { cancelled = true }
	_, cmd := m.Update(keyRunes("q"))
	if cmd != nil || !cancelled || m.phase != phaseCancelling {
		t.Fatalf("q during work: cmd %v, cancelled %v, phase %v; want the run cancelled and the program kept until it returns", cmd, cancelled, m.phase)
	}
	if !strings.Contains(view(m), "Stopping") {
		t.Errorf("no stopping notice:\n%s", view(m))
	}
	_, cmd = m.Update(runDoneMsg{err: context.Canceled})
	if cmd == nil || !m.quitting {
		t.Fatal("the program does not end once the cancelled run returned")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("the command after the run returned is not tea.Quit")
	}
}

// At 60 columns the header still names the region: the account id, which
// the ARN line repeats, is what gets cut.
func TestHeaderKeepsRegionWhenNarrow(t *testing.T) {
	m := testModel(t, 60, 20)
	feed(m, data("account", &steps.AccountInfo{ID: "123456789012", ARN: "arn:aws:iam::123456789012:user/alice", Region: "ap-southeast-2"}))
	first := strings.SplitN(view(m), "\n", 2)[0]
	if !strings.Contains(first, "ap-southeast-2") {
		t.Fatalf("header %q lost the region", first)
	}
}
