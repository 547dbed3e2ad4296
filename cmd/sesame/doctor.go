package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/smithy-go/logging"
	"github.com/spf13/cobra"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
)

// doctorOptions are `sesame doctor`'s flags.
type doctorOptions struct {
	postfixDir, stateDir, osRelease, rewriteSenders string
	json, fix, yes, noInput, live                   bool
	// The live checks' target, when no saved setup names it.
	domain, smtpUser, profile, smtpEndpoint, smtpCA string
}

// newDoctorCmd is `sesame doctor`: what is wrong with the Postfix relay
// through SES installed here, each finding with its fix, read offline
// from Postfix's own tools; --fix repairs it through --apply-postfix's code.
func newDoctorCmd(s *ioStreams, getenv func(string) string) *cobra.Command {
	o := &doctorOptions{}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Find (and with --fix repair) what is wrong with Postfix's relay through SES",
		Long: `doctor reads the installed Postfix configuration (postconf, postmap -q,
postqueue -j and the mail log) and says what stops it relaying through SES,
each finding with its fix: the relay host and port, the password map's entry
for it and its region, the .db's age and modes, the CA file, the SASL plugin,
obsolete or conflicting parameters, and why queued mail waits or bounced.
It changes nothing. Exit code: 0 healthy, 3 warnings only, 1 broken.

--fix shows the repair as a plan (each parameter's current and new value and
why) and applies it once approved (--yes, or the prompt), with backups of
every file it touches beside the original.`,
		Example: `  sudo sesame doctor
  sudo sesame doctor --json | jq '.findings[] | select(.severity != "ok")'
  sudo sesame doctor --fix`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDoctor(cmd.Context(), o, s, getenv)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.postfixDir, "postfix-dir", steps.DefaultPostfixDir, "Postfix's configuration directory")
	f.BoolVar(&o.json, "json", false, "print the findings as one JSON object on stdout")
	f.BoolVar(&o.fix, "fix", false, "repair what doctor found (shown as a plan first)")
	f.BoolVar(&o.yes, "yes", false, "with --fix: apply the plan without asking")
	f.BoolVar(&o.noInput, "no-input", false, "never ask; with --fix, --yes approves the plan")
	f.StringVar(&o.stateDir, "state-dir", "", "where saved setups live (default $XDG_STATE_HOME/sesame): their regions are checked against the key in sasl_passwd")
	f.StringVar(&o.osRelease, "os-release", "/etc/os-release", "the os-release file that picks the CA bundle and SASL package")
	f.BoolVar(&o.live, "live", false, "also check with AWS (automatic when a saved setup made the installed key): the key is active, the domain verified in the relay host's region, the SMTP user's policy allows sending as it there (iam:SimulatePrincipalPolicy), the sandbox, an SMTP login (no mail sent)")
	f.StringVar(&o.domain, "domain", "", "with --live: the domain the relay sends for (default: the saved setup's)")
	f.StringVar(&o.smtpUser, "smtp-user", "", "with --live: the IAM user of the key in sasl_passwd (default: the saved setup's, or ses-smtp-<domain>)")
	f.StringVar(&o.profile, "profile", "", "with --live: AWS shared config profile")
	f.StringVar(&o.smtpEndpoint, "smtp-endpoint", "", "with --live: host:port to log in to instead of the relay host (a test endpoint)")
	f.StringVar(&o.smtpCA, "smtp-ca", "", "with --live: a PEM file of extra CAs to trust for the SMTP login")
	f.StringVar(&o.rewriteSenders, "rewrite-local-senders", "", "with --fix: rewrite local senders (root@this-host) to this address of the verified domain (smtp_generic_maps)")
	return cmd
}

// doctorReport is doctor's --json object.
type doctorReport struct {
	postfix.Diagnosis
	Status postfix.Severity `json:"status"`
	Fixed  []postfix.Change `json:"fixed,omitempty"`
}

// savedRegions maps each access key id of the saved setups to the region
// its SMTP password was derived for.
func savedRegions(dir string) map[string]string {
	saved, err := state.Store{Dir: dir}.List()
	if err != nil {
		return nil
	}
	m := map[string]string{}
	for _, sv := range saved {
		for _, k := range append([]string{sv.Record.AccessKeyID}, sv.Record.KeysCreated...) {
			if k != "" {
				m[k] = sv.Region
			}
		}
	}
	return m
}

func runDoctor(ctx context.Context, o *doctorOptions, s *ioStreams, getenv func(string) string) error {
	if err := steps.ValidatePostfixDir(o.postfixDir); err != nil {
		return exitWith(exitInput, err)
	}
	inst := postfix.Install{Dir: o.postfixDir}
	opts := postfix.DoctorOptions{Distro: postfix.DetectDistro(o.osRelease), SavedRegions: savedRegions(stateDirOr(o.stateDir, getenv))}
	d, err := inst.Doctor(ctx, opts)
	if err != nil {
		return exitWith(exitFailure, err)
	}
	out := s.Out
	if o.json {
		out = s.ErrOut
	}
	if err := addLiveFindings(ctx, o, getenv, &d); err != nil {
		return err
	}
	if !o.json {
		printDiagnosis(out, d)
	}
	if !o.fix || (d.Worst() == postfix.SeverityOK && o.rewriteSenders == "") {
		if o.json {
			if err := json.NewEncoder(s.Out).Encode(doctorReport{Diagnosis: d, Status: d.Worst()}); err != nil {
				return exitWith(exitFailure, err)
			}
		}
		return doctorExit(d)
	}
	if err := postfix.ValidateRewriteSender(o.rewriteSenders); err != nil {
		return exitWith(exitInput, &steps.InputError{Field: "rewrite-local-senders", Flag: "--rewrite-local-senders", Msg: err.Error()})
	}
	if d.Repair == nil {
		return exitWith(exitFailure, fmt.Errorf("doctor --fix: no SES credentials in the password map to repair the relay with: run sesame (the wizard) to make them, then sesame doctor --fix"))
	}
	d.Repair.RewriteSender = o.rewriteSenders
	changes, err := inst.Diff(ctx, *d.Repair)
	if err != nil {
		return exitWith(exitFailure, err)
	}
	fmt.Fprintf(out, "\nThe repair (relay through %s with the credentials of %s):\n", d.Repair.RelayHost(), d.Repair.Username)
	pending := printFixPlan(out, d, changes)
	if pending == 0 {
		fmt.Fprintln(out, "  nothing sesame can change: the findings above need the fixes they name")
		return doctorExit(d)
	}
	if !o.yes {
		if o.noInput || !s.InTTY {
			return exitWith(exitInput, &steps.InputError{Field: "yes", Flag: "--yes", Msg: "doctor --fix changes Postfix's configuration: approve the plan above with --yes"})
		}
		fmt.Fprint(out, "Apply this repair? [y/N] ")
		line, _ := bufio.NewReader(s.In).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fmt.Fprintln(out, "Nothing changed.")
			return exitWith(exitInput, fmt.Errorf("the repair was not approved; nothing changed"))
		}
	}
	if err := inst.Preflight(); err != nil {
		return exitWith(exitFailure, err)
	}
	applied, err := inst.Apply(ctx, *d.Repair)
	if err != nil {
		return exitWith(exitFailure, err)
	}
	fmt.Fprintf(out, "Repaired %s (main.cf backed up as %s", o.postfixDir, applied.Backup)
	if applied.PasswdBackup != "" {
		fmt.Fprintf(out, ", sasl_passwd as %s", applied.PasswdBackup)
	}
	fmt.Fprintln(out, ").")
	if applied.Note != "" {
		fmt.Fprintln(out, applied.Note)
	}
	if applied.Reloaded {
		// The deferred mail is retried now rather than at the next queue run.
		if err := inst.Flush(ctx); err == nil {
			fmt.Fprintln(out, "Postfix reloaded; the deferred mail is being retried (postqueue -f).")
		}
	}
	after, err := inst.Doctor(ctx, opts)
	if err != nil {
		return exitWith(exitFailure, err)
	}
	if !o.json {
		fmt.Fprintln(out, "\nAfter the repair:")
		printDiagnosis(out, after)
	} else if err := json.NewEncoder(s.Out).Encode(doctorReport{Diagnosis: after, Status: after.Worst(), Fixed: changes}); err != nil {
		return exitWith(exitFailure, err)
	}
	return doctorExit(after)
}

// doctorExit is 0 healthy, 3 warnings only, 1 broken.
func doctorExit(d postfix.Diagnosis) error {
	switch d.Worst() {
	case postfix.SeverityBroken:
		return exitWith(exitFailure, nil)
	case postfix.SeverityWarning:
		return exitWith(exitPending, nil)
	}
	return nil
}

var severityMark = map[postfix.Severity]string{postfix.SeverityOK: "ok     ", postfix.SeverityWarning: "WARNING", postfix.SeverityBroken: "BROKEN "}

func printDiagnosis(w io.Writer, d postfix.Diagnosis) {
	fmt.Fprintf(w, "Postfix in %s, relayhost %q:\n", d.Dir, d.RelayHost)
	for _, f := range d.Findings {
		fmt.Fprintf(w, "  %s %s\n", severityMark[f.Severity], f.Summary)
		if f.Fix != "" {
			fmt.Fprintf(w, "          fix: %s\n", f.Fix)
		}
	}
	switch d.Worst() {
	case postfix.SeverityBroken:
		fmt.Fprintln(w, "The relay is broken. `sesame doctor --fix` repairs what sesame can (shown as a plan first).")
	case postfix.SeverityWarning:
		fmt.Fprintln(w, "The relay works, with the warnings above. `sesame doctor --fix` repairs what sesame can.")
	default:
		fmt.Fprintln(w, "The relay is healthy.")
	}
}

// printFixPlan prints each change as current → new with its reason and
// returns how many change something.
func printFixPlan(w io.Writer, d postfix.Diagnosis, changes []postfix.Change) int {
	n := 0
	for _, c := range changes {
		if c.Action == postfix.Unchanged {
			continue
		}
		n++
		why := c.Note
		if c.Resource == "postfix-setting" {
			if r := d.Reason(c.Name); r != "" {
				why = r
			}
		}
		switch c.Action {
		case postfix.Remove:
			fmt.Fprintf(w, "  remove %s = %s\n", c.Name, c.Current)
		case postfix.Update:
			if c.Resource == "postfix-setting" {
				fmt.Fprintf(w, "  %s: %q → %q\n", c.Name, c.Current, c.Value)
			} else {
				fmt.Fprintf(w, "  %s %s: %s\n", c.Action, c.Name, c.Value)
			}
		default:
			fmt.Fprintf(w, "  %s %s: %s\n", c.Action, c.Name, c.Value)
		}
		if why != "" {
			fmt.Fprintf(w, "      why: %s\n", why)
		}
	}
	return n
}

// addLiveFindings runs the live checks when asked (--live) or when a saved
// setup made the installed key, and adds their findings.
func addLiveFindings(ctx context.Context, o *doctorOptions, getenv func(string) string, d *postfix.Diagnosis) error {
	keyID := ""
	if d.Installed != nil {
		keyID = d.Installed.Username
	}
	lo, profile, saved := liveTarget(o, stateDirOr(o.stateDir, getenv), keyID)
	if !o.live && !saved {
		return nil
	}
	host, _, _, _ := postfix.ParseRelayHost(d.RelayHost)
	cfg, err := loadAWSConfig(ctx, profile, ses.RegionOfSMTPHost(host), logging.Nop{})
	if err != nil {
		if o.live {
			return exitFor(err)
		}
		d.Findings = append(d.Findings, postfix.Finding{ID: "live", Severity: postfix.SeverityWarning,
			Summary: "the live checks could not load AWS credentials: " + err.Error(), Fix: "run with AWS credentials (--profile), or without --live"})
		return nil
	}
	d.Findings = append(d.Findings, postfix.Live(ctx, *d, liveAPI(newClients(cfg, nil, 30*time.Second), o), lo)...)
	return nil
}
