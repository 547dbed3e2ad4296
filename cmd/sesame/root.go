package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// options are the wizard's flags. Every question the wizard asks has one,
// and every flag has a SESAME_<FLAG> variable.
type options struct {
	domain, region, profile, smtpUser, mailFrom string
	dmarc                                       bool
	zoneID, out, stateDir                       string

	yes, dryRun, noInput, wait, noWait bool
	timeout                            time.Duration
	resolver                           string
	smtpEndpoint, smtpCA               string
	noSMTPTest                         bool
	smtpPort                           int
	testTo                             string
	applyPostfix                       bool
	postfixDir                         string
	rewriteSenders                     string

	replaceKeys      []string
	recreateIdentity bool

	requestProduction bool
	mailType          string
	websiteURL        string
	useCase           string
	contactLanguage   string
	contactEmails     []string
	verifyRecipient   string

	json, demo, noColor, debug bool

	// confirmDomain confirms a look-alike domain (its punycode form).
	confirmDomain string

	// mailFromSet and dmarcSet say the operator answered on this run
	// (an empty --mail-from is the answer "none"); zoneIDSet likewise
	// (an empty --zone-id clears a saved zone id).
	mailFromSet, dmarcSet, zoneIDSet bool

	// fromEnv maps a flag set by its SESAME_* variable to the variable's
	// name, so an error about the value names the variable.
	fromEnv map[string]string
}

// run parses args, runs the command and returns the process exit code.
func run(args []string, s *ioStreams, getenv func(string) string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, _ := newRootCmd(s, getenv)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(s.ErrOut, "sesame:", ee.Err)
		}
		return ee.Code
	}
	// cobra's own errors: unknown flags and commands, bad flag values.
	fmt.Fprintln(s.ErrOut, "sesame:", err)
	return exitInput
}

// newRootCmd builds the command tree; it also returns the wizard's options
// so tests can inspect what flags and variables produced.
func newRootCmd(s *ioStreams, getenv func(string) string) (*cobra.Command, *options) {
	o := &options{fromEnv: map[string]string{}}
	root := &cobra.Command{
		Use:   "sesame",
		Short: "Set up Postfix to relay mail through Amazon SES, step by step",
		Long: `sesame takes you from "an AWS account and a domain" to "Postfix relays my mail
through Amazon SES": it creates SMTP credentials in IAM, verifies the domain in
SES with DKIM records in Route 53 (never touching your MX records), waits until
SES says verified, reports the sandbox status and writes a working Postfix relay
config. Stop at any point and run it again: it picks up where AWS says things
stand and never creates a thing twice.

Every question has a flag, and every flag a SESAME_<FLAG> variable
(SESAME_DOMAIN, SESAME_NO_INPUT, ...).`,
		Example: `  # Try the whole wizard against a simulated AWS account
  sesame --demo

  # The wizard, on your account (asks what flags don't say)
  sesame --profile mail --region eu-west-1 --domain example.com

  # Unattended: approve every plan, fail on any missing answer
  sesame --no-input --yes --domain example.com --region us-east-1 --out /etc/sesame

  # See every step's plan and change nothing
  sesame --dry-run --domain example.com --region us-east-1`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          noArgsSuggesting,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWizard(cmd.Context(), o, s, getenv)
		},
	}
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		var ive *pflag.InvalidValueError
		if errors.As(err, &ive) {
			err = badValue("--"+ive.GetFlag().Name, ive.GetFlag(), ive.GetValue())
		}
		return exitWith(exitInput, fmt.Errorf("%w%s\nRun '%s --help' for usage.", err, suggestFlag(c, err), c.CommandPath()))
	})
	root.SuggestionsMinimumDistance = 2

	f := root.Flags()
	addCommonFlags(f, o)
	f.StringVar(&o.smtpUser, "smtp-user", "", "IAM user for the SMTP credentials (default ses-smtp-<domain>)")
	f.StringVar(&o.mailFrom, "mail-from", "", "custom MAIL FROM subdomain label, e.g. mail (empty for none)")
	f.BoolVar(&o.dmarc, "dmarc", false, "publish _dmarc TXT \"v=DMARC1; p=none;\" if the domain has no DMARC record")
	f.StringVar(&o.zoneID, "zone-id", "", "Route 53 hosted zone id, when several zones could hold the domain (empty clears a saved one)")
	f.StringVar(&o.confirmDomain, "confirm-domain", "", "confirm a look-alike domain (mixed scripts) is yours: its punycode form, e.g. xn--exmple-4nf.com")
	f.StringVar(&o.out, "out", "", "directory for the relay files (default ~/.local/share/sesame/<domain>-<region>)")
	f.BoolVarP(&o.yes, "yes", "y", false, "approve planned changes without asking")
	f.BoolVar(&o.dryRun, "dry-run", false, "show every step's plan and change nothing")
	f.BoolVar(&o.noInput, "no-input", false, "never ask: a missing answer is an error naming its flag (exit 2)")
	f.BoolVar(&o.wait, "wait", true, "wait for SES to verify the domain")
	f.BoolVar(&o.noWait, "no-wait", false, "don't wait for verification: exit 3 while it is pending (resume later)")
	f.DurationVar(&o.timeout, "timeout", 0, "stop waiting for verification after this long, exit 3 (default 72h)")
	f.StringVar(&o.smtpEndpoint, "smtp-endpoint", "", "host:port for the SMTP login test (default email-smtp.<region>.amazonaws.com, at the --smtp-port)")
	f.StringVar(&o.smtpCA, "smtp-ca", "", "PEM file of extra CAs to trust for the SMTP login test")
	f.BoolVar(&o.noSMTPTest, "no-smtp-test", false, "skip the SMTP login test")
	f.IntVar(&o.smtpPort, "smtp-port", ses.DefaultSMTPPort, "SES SMTP port for the relay: "+ses.SMTPPortsText)
	f.StringVar(&o.testTo, "test-to", "", "after the login test, send one test message to this address")
	f.BoolVar(&o.applyPostfix, "apply-postfix", false, "install the relay config into this machine's Postfix (root; shows the diff and asks)")
	f.StringVar(&o.postfixDir, "postfix-dir", "/etc/postfix", "Postfix configuration directory for --apply-postfix")
	f.StringVar(&o.rewriteSenders, "rewrite-local-senders", "", "rewrite local senders (root@this-host) to this address of the verified domain (smtp_generic_maps), so SES accepts system mail")
	f.StringSliceVar(&o.replaceKeys, "replace-key", nil, "access key id sesame may delete to make room for a new key (repeatable)")
	f.BoolVar(&o.recreateIdentity, "recreate-identity", false, "delete and re-create a FAILED SES identity (new DKIM tokens)")
	f.BoolVar(&o.requestProduction, "request-production", false, "ask SES for production access (out of the sandbox)")
	f.StringVar(&o.mailType, "mail-type", "", "production request: TRANSACTIONAL or MARKETING")
	f.StringVar(&o.websiteURL, "website-url", "", "production request: your website's URL")
	f.StringVar(&o.useCase, "use-case", "", "production request, optional (AWS has deprecated the field): how you send mail and to whom")
	f.StringVar(&o.contactLanguage, "contact-language", "EN", "production request: EN or JA")
	f.StringSliceVar(&o.contactEmails, "contact-email", nil, "production request: extra contact address (repeatable, at most 4)")
	f.StringVar(&o.verifyRecipient, "verify-recipient", "", "in the sandbox, verify this email address so you can send test mail to it")
	f.BoolVar(&o.demo, "demo", false, "run against a simulated AWS account (no account or credentials needed)")
	f.BoolVar(&o.debug, "debug", false, "log AWS calls to stderr (credentials and signatures redacted)")

	statusCmd, postfixCmd := newStatusCmd(s, getenv), newPostfixCmd(s)
	withSavedOut(postfixCmd, s, getenv)
	completeValues(root)
	completeValues(statusCmd)
	completeValues(postfixCmd)
	root.AddCommand(statusCmd, newRotateCmd(s, getenv), newRemoveCmd(s, getenv), newDoctorCmd(s, getenv), newPolicyCmd(s), newSMTPPasswordCmd(s), postfixCmd, newCompletionCmd(root, s))
	// Flags first, then SESAME_* variables for what flags did not set.
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := applyEnv(cmd, getenv, o.fromEnv); err != nil {
			return err
		}
		if cmd == root {
			o.mailFromSet = cmd.Flags().Changed("mail-from")
			o.dmarcSet = cmd.Flags().Changed("dmarc")
			o.zoneIDSet = cmd.Flags().Changed("zone-id")
		}
		return nil
	}
	return root, o
}

// addCommonFlags are the flags the wizard and status share.
func addCommonFlags(f *pflag.FlagSet, o *options) {
	f.StringVar(&o.domain, "domain", "", "the domain that sends mail, e.g. example.com")
	f.StringVar(&o.region, "region", "", "SES region (default: the AWS configuration's region)")
	f.StringVar(&o.profile, "profile", "", "AWS shared config profile (as AWS_PROFILE)")
	f.StringVar(&o.stateDir, "state-dir", "", "where saved setups live (default $XDG_STATE_HOME/sesame)")
	f.StringVar(&o.resolver, "resolver", "", "DNS server host:port for the visibility checks")
	f.BoolVar(&o.json, "json", false, "print one JSON report on stdout when the run ends")
	f.BoolVar(&o.noColor, "no-color", false, "no colour (also NO_COLOR=1)")
}

// applyEnv sets every flag the command line did not set from its
// SESAME_<FLAG> variable (dashes become underscores), and notes in fromEnv
// which flags a variable set. A value that does not parse is an error in
// words, naming the variable (exit 2).
func applyEnv(cmd *cobra.Command, getenv func(string) string, fromEnv map[string]string) error {
	var errs []error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" || f.Name == "version" {
			return
		}
		env := "SESAME_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := getenv(env)
		if v == "" {
			return
		}
		if err := cmd.Flags().Set(f.Name, v); err != nil {
			errs = append(errs, badValue(env, f, v))
			return
		}
		if fromEnv != nil {
			fromEnv[f.Name] = env
		}
	})
	if len(errs) > 0 {
		return exitWith(exitInput, errors.Join(errs...))
	}
	return nil
}

// badValue says, in words, why value does not fit the flag f, set by name
// (a --flag or a SESAME_* variable): an *InputError naming it (exit 2).
func badValue(name string, f *pflag.Flag, value string) error {
	var want string
	switch f.Value.Type() {
	case "bool":
		want = "it is a yes/no setting: use true or false (or 1 or 0)"
	case "duration":
		want = "it is a length of time: use a number with a unit, such as 90s, 10m or 72h"
	case "int":
		want = "it is a whole number, such as " + f.DefValue
	default:
		want = "see sesame --help for what it takes"
	}
	return &steps.InputError{Field: f.Name, Flag: name, Msg: fmt.Sprintf("%q is not a valid value: %s", value, want)}
}

// nameEnv makes an *InputError about a flag that a SESAME_* variable set
// name the variable too, so the operator looks where the value came from.
// It returns err.
func (o *options) nameEnv(err error) error {
	var ie *steps.InputError
	if !errors.As(err, &ie) || !strings.HasPrefix(ie.Flag, "--") {
		return err
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(ie.Flag, "--"), " ")
	if env, ok := o.fromEnv[name]; ok {
		ie.Flag = env + " or --" + name
	}
	return err
}

// suggestFlag adds "did you mean --x?" to an unknown-flag error.
func suggestFlag(c *cobra.Command, err error) string {
	msg := err.Error()
	const p = "unknown flag: --"
	i := strings.Index(msg, p)
	if i < 0 {
		return ""
	}
	bad := strings.Fields(msg[i+len(p):])[0]
	best, bestD := "", 3
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if d := levenshtein(bad, f.Name); d < bestD {
			best, bestD = f.Name, d
		}
	})
	if best == "" {
		return ""
	}
	return fmt.Sprintf("\nDid you mean --%s?", best)
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// stepOptions turns the flags into the run's steps.Options.
func (o *options) stepOptions() steps.Options {
	return steps.Options{
		Yes: o.yes, DryRun: o.dryRun, NoInput: o.noInput, NoWait: o.noWait || !o.wait,
		Timeout: o.timeout, Demo: o.demo,
		SMTPEndpoint: o.smtpEndpoint, SMTPCA: o.smtpCA, NoSMTPTest: o.noSMTPTest,
		SMTPPort: o.smtpPort, TestTo: o.testTo, ApplyPostfix: o.applyPostfix, PostfixDir: o.postfixDir,
		RewriteLocalSenders: o.rewriteSenders,
		ReplaceKeys:         o.replaceKeys, RecreateIdentity: o.recreateIdentity,
		ConfirmDomain:     o.confirmDomain,
		RequestProduction: o.requestProduction,
		VerifyRecipient:   o.verifyRecipient,
		Production: steps.ProductionRequest{
			MailType: strings.ToUpper(o.mailType), WebsiteURL: o.websiteURL, UseCase: o.useCase,
			ContactLanguage: strings.ToUpper(o.contactLanguage), Contacts: o.contactEmails,
		},
	}
}

// answers are the answers the flags gave.
func (o *options) answers() *state.Answers {
	return &state.Answers{
		Domain: o.domain, Region: o.region, Profile: o.profile, SMTPUser: o.smtpUser,
		MailFrom: o.mailFrom, MailFromAsked: o.mailFromSet,
		DMARC: o.dmarc, DMARCAsked: o.dmarcSet,
		ZoneID: o.zoneID, ZoneIDSet: o.zoneIDSet, OutDir: o.out, PostfixDir: o.savedPostfixDir(),
	}
}

// savedPostfixDir is the Postfix directory to remember for status: the one
// --apply-postfix installs into, or one named other than the default.
func (o *options) savedPostfixDir() string {
	if o.applyPostfix || (o.postfixDir != "" && o.postfixDir != steps.DefaultPostfixDir) {
		return o.postfixDir
	}
	return ""
}
