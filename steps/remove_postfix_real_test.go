package steps_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/awssim"
	"github.com/sesame-tool/sesame/steps/internal/postfixtest"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
)

// confirmPrompter answers every yes/no question with yes and records it.
type confirmPrompter struct {
	steps.NoInput
	answer bool
	asked  []string
}

func (p *confirmPrompter) Confirm(_ context.Context, q steps.Question) (bool, error) {
	p.asked = append(p.asked, q.ID)
	return p.answer, nil
}

// TestRealPostfixRemove: sesame remove takes its entry out of a real,
// running Postfix that --apply-postfix set up to relay through the
// simulated SES, where the operator's password map also holds another
// relay's entry and another key's entry for the same SES host, with mode
// 0640 and group postfix. Where the entry goes, every other line stays
// byte for byte, the map agrees (postmap -q), the file as it was is kept
// beside it and the mode and owner stay. Where Postfix still relays
// through SES and main.cf is not restored, the entry stays (and the saved
// setup with it) and a message sent once the key is deleted is deferred,
// not bounced; pointing relayhost elsewhere lets the rerun take it out.
func TestRealPostfixRemove(t *testing.T) {
	postfixtest.Skip(t)
	yes, no := true, false
	tests := []struct {
		name    string
		restore bool  // --restore-postfix
		ask     *bool // interactive, with this answer to the restore question
		// elsewhere: the operator pointed relayhost elsewhere first.
		elsewhere bool
		// sesBefore: main.cf relayed through SES already before sesame.
		sesBefore   bool
		wantRestore bool
		wantGone    bool
	}{
		{name: "--restore-postfix puts main.cf back and takes the entry out", restore: true, wantRestore: true, wantGone: true},
		{name: "asked and answered yes: the same", ask: &yes, wantRestore: true, wantGone: true},
		{name: "relayhost already elsewhere: the entry goes, main.cf stays", elsewhere: true, wantGone: true},
		{name: "still relaying through SES, asked and answered no: the entry stays, mail defers", ask: &no},
		{name: "still relaying through SES, --no-input: the entry stays, mail defers"},
		{name: "--restore-postfix to a main.cf that relayed through SES before sesame: restored, and the entry stays", restore: true, sesBefore: true, wantRestore: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			sim := awssim.New(awssim.Options{})
			key, secret := postfixtest.SimAccount(t, sim, "us-east-1")
			endpoint := postfixtest.StartSimSMTP(t, sim, "us-east-1")
			pf := postfixtest.New(t)
			passwd := filepath.Join(pf.ConfDir, "sasl_passwd")
			// The operator's map before sesame: a comment, another relay,
			// and another key at SES's host on another port.
			theirs := "# relays of this host\n[smtp.other-relay.example]:587 bob:bobs-password\n[email-smtp.us-east-1.amazonaws.com]:2587 AKIAOTHERKEY00000000:their-password\n"
			if err := os.WriteFile(passwd, []byte(theirs), 0o600); err != nil {
				t.Fatal(err)
			}
			if tt.sesBefore {
				if out, err := pf.Run("postconf", "-e", "relayhost = [email-smtp.us-east-1.amazonaws.com]:587"); err != nil {
					t.Fatalf("postconf: %v: %s", err, out)
				}
			}
			ip, _, _ := net.SplitHostPort(endpoint.Addr)
			cfg := postfix.Config{Region: "us-east-1", Port: 587, Username: key, Password: mta.Secret(ses.SMTPPassword(secret, "us-east-1")), PostfixDir: pf.ConfDir, CAFile: endpoint.CertFile}
			applied, err := (postfix.Install{Dir: pf.ConfDir, Sbin: postfixtest.Sbin}).Apply(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			pf.StartResolving(map[string]string{ses.SMTPHost("us-east-1"): ip}, "")
			// The operator lets group postfix read the map.
			grp, err := user.LookupGroup("postfix")
			if err != nil {
				t.Fatal(err)
			}
			gid, _ := strconv.Atoi(grp.Gid)
			for _, p := range []string{passwd, passwd + ".db"} {
				if err := os.Chmod(p, 0o640); err != nil {
					t.Fatal(err)
				}
				if err := os.Chown(p, 0, gid); err != nil {
					t.Fatal(err)
				}
			}
			if tt.elsewhere {
				if out, err := pf.Run("postconf", "-e", "relayhost = [smtp.other-relay.example]:587"); err != nil {
					t.Fatalf("postconf: %v: %s", err, out)
				}
			}
			mainBackup, err := os.ReadFile(applied.Backup)
			if err != nil {
				t.Fatal(err)
			}

			url := postfixtest.ServeSim(t, sim)
			ic := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: postfixtest.OperatorCreds})
			env := steps.NewEnv(awsapi.Clients{IAM: ic}, &state.Answers{Domain: "example.com", Region: "us-east-1"}, steps.Options{Yes: true, NoInput: tt.ask == nil})
			env.Facts.Account = &steps.AccountInfo{ID: awssim.DefaultAccountID}
			env.Record.UserCreated, env.Record.KeysCreated, env.Record.PostfixDir = true, []string{key}, pf.ConfDir
			env.Record.Files = map[string]string{steps.RoleMainCFBackup: applied.Backup}
			prompter := &confirmPrompter{}
			if tt.ask != nil {
				prompter.answer = *tt.ask
				env.Prompt = prompter
			}
			var plan *steps.Plan
			env.Emit = func(e steps.Event) {
				if e.Kind == steps.EventPlan && e.Step == "remove-postfix" {
					plan = e.Plan
				}
			}
			step := &steps.RemovePostfix{RestorePostfix: tt.restore, Sbin: postfixtest.Sbin}
			_, runErr := (&steps.Runner{Steps: []steps.Step{step}}).Run(ctx, env)
			if tt.ask != nil && (len(prompter.asked) != 1 || prompter.asked[0] != "restore-postfix") {
				t.Errorf("questions asked %v, want the restore-postfix one", prompter.asked)
			}
			if plan == nil {
				t.Fatal("no plan was shown")
			}
			got, err := os.ReadFile(passwd)
			if err != nil {
				t.Fatal(err)
			}
			q := func(k string) (string, bool) {
				out, err := exec.Command(filepath.Join(postfixtest.Sbin, "postmap"), "-c", pf.ConfDir, "-q", k, "hash:"+passwd).Output()
				return strings.TrimSpace(string(out)), err == nil
			}
			if v, ok := q("[smtp.other-relay.example]:587"); !ok || v != "bob:bobs-password" {
				t.Errorf("the other relay's entry in the map = %q, %v", v, ok)
			}
			if v, ok := q("[email-smtp.us-east-1.amazonaws.com]:2587"); !ok || !strings.HasPrefix(v, "AKIAOTHERKEY00000000:") {
				t.Errorf("the other key's entry in the map = %q, %v", v, ok)
			}
			st := &steps.RemoveState{Exists: func() bool { return true }}
			kept, err := st.Check(ctx, env)
			if err != nil {
				t.Fatal(err)
			}

			mainCF, _ := os.ReadFile(filepath.Join(pf.ConfDir, "main.cf"))
			if restored := string(mainCF) == string(mainBackup); restored != tt.wantRestore {
				t.Errorf("main.cf restored = %v, want %v", restored, tt.wantRestore)
			}
			// The saved setup stays while the entry does (todo: it goes).
			if want := map[bool]steps.Status{true: steps.StatusTodo, false: steps.StatusSkipped}[tt.wantGone]; kept.Status != want {
				t.Errorf("remove-state = %s (%s), want %s", kept.Status, kept.Detail, want)
			}
			if !tt.wantGone {
				var pe *steps.PendingError
				if !errors.As(runErr, &pe) || !strings.Contains(pe.Error(), "530") || !strings.Contains(pe.Error(), "deferred") {
					t.Fatalf("run = %v, want pending saying why the entry stays", runErr)
				}
				if _, ok := q("[email-smtp.us-east-1.amazonaws.com]:587"); !ok || !strings.Contains(string(got), key) {
					t.Fatalf("the entry of the live relay went:\n%s", got)
				}
				if tt.sesBefore {
					// The restored main.cf is the operator's own from
					// before sesame (here without TLS or a login): mail
					// goes their old way, whatever that does.
					return
				}
				// The key goes (remove-smtp-user): a message now waits.
				if _, err := ic.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("ses-smtp-example-com"), AccessKeyId: aws.String(key)}); err != nil {
					t.Fatal(err)
				}
				pf.Sendmail("sesame-test@example.com", "success@simulator.amazonses.com", "after the key", "waits")
				if !postfixtest.WaitFor(30*time.Second, func() bool { return strings.Contains(pf.Log(), "status=deferred") }) {
					t.Fatalf("the message was not deferred:\n%s", pf.Log())
				}
				if log := pf.Log(); strings.Contains(log, "status=bounced") || !strings.Contains(log, "535") {
					t.Fatalf("want deferred for 535, never bounced:\n%s", log)
				}
				// The operator points relayhost elsewhere: the rerun takes
				// the entry out.
				if out, err := pf.Run("postconf", "-e", "relayhost = [smtp.other-relay.example]:587"); err != nil {
					t.Fatalf("postconf: %v: %s", err, out)
				}
				env.Options.NoInput, env.Prompt = true, nil
				if _, err := (&steps.Runner{Steps: []steps.Step{step}}).Run(ctx, env); err != nil {
					t.Fatalf("rerun once relayhost is elsewhere: %v", err)
				}
				if got, _ = os.ReadFile(passwd); strings.Contains(string(got), key) {
					t.Fatalf("the rerun left the entry:\n%s", got)
				}
				return
			}

			if runErr != nil {
				t.Fatalf("run: %v", runErr)
			}
			if string(got) != theirs {
				t.Errorf("sasl_passwd after remove:\n%s\nwant the operator's lines byte for byte:\n%s", got, theirs)
			}
			if v, ok := q("[email-smtp.us-east-1.amazonaws.com]:587"); ok {
				t.Errorf("the map still answers sesame's entry: %q", v)
			}
			for _, p := range []string{passwd, passwd + ".db"} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if sys := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o640 || sys.Uid != 0 || int(sys.Gid) != gid {
					t.Errorf("%s: mode %v owner %d:%d, want 0640 root:postfix kept", p, fi.Mode().Perm(), sys.Uid, sys.Gid)
				}
			}
			backups, _ := filepath.Glob(passwd + ".sesame-*")
			found := false
			for _, b := range backups {
				if data, _ := os.ReadFile(b); strings.Contains(string(data), key) && strings.HasPrefix(string(data), theirs) {
					found = true
				}
			}
			if !found {
				t.Errorf("no backup of sasl_passwd with sesame's entry among %v", backups)
			}
			if want := "Postfix sends mail the way it did before sesame"; tt.wantRestore && !strings.Contains(plan.Summary, want) {
				t.Errorf("plan summary %q does not say what happens to mail (%q)", plan.Summary, want)
			}
		})
	}
}
