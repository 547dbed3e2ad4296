package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
)

// newSMTPPasswordCmd is `sesame smtp-password`: the SES SMTP password of an
// IAM secret access key made elsewhere (the console, Terraform), derived
// locally. The secret is read from stdin, without echo on a terminal, so it
// never lands in the shell history or the process list.
func newSMTPPasswordCmd(s *ioStreams) *cobra.Command {
	var region string
	cmd := &cobra.Command{
		Use:   "smtp-password --region REGION",
		Short: "Derive the SES SMTP password of an IAM secret access key read on stdin",
		Long: `Derive the Amazon SES SMTP password (version 4) of an IAM secret access key.

The secret access key is read from standard input (without echo when it is a
terminal) and the SMTP password is printed on standard output. Nothing is sent
anywhere: the password is an HMAC of the secret and the region.

SMTP passwords are bound to their region: a password derived for us-east-1 is
refused (535) by email-smtp.us-west-2.amazonaws.com. The SMTP user name is the
access key id (AKIA...), not the IAM user name.`,
		Example: `  # type or paste the secret when asked
  sesame smtp-password --region eu-west-1

  # from a file or a secret manager, without it ever reaching argv
  sesame smtp-password --region us-east-1 < secret-key.txt
  pass show aws/ses-smtp | sesame smtp-password --region us-east-1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := steps.ValidateRegion(region); err != nil {
				return exitWith(exitInput, err)
			}
			secret, err := readSecret(s, "IAM secret access key (input hidden): ")
			if err != nil {
				return exitWith(exitInput, err)
			}
			if err := checkSecretShape(secret); err != nil {
				return exitWith(exitInput, err)
			}
			fmt.Fprintln(s.Out, ses.SMTPPassword(secret, strings.ToLower(strings.TrimSpace(region))))
			return nil
		},
	}
	cmd.Flags().StringVar(&region, "region", "", "the SES region whose SMTP endpoint the password is for (required)")
	return cmd
}

// readSecret reads one line: without echo from a terminal, else from s.In.
func readSecret(s *ioStreams, prompt string) (string, error) {
	var line string
	if s.InTTY && s.InFd >= 0 {
		fmt.Fprint(s.ErrOut, prompt)
		b, err := term.ReadPassword(s.InFd)
		fmt.Fprintln(s.ErrOut)
		if err != nil {
			return "", fmt.Errorf("read the secret access key from the terminal: %w", err)
		}
		line = string(b)
	} else {
		r := bufio.NewReader(s.In)
		l, err := r.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read the secret access key from stdin: %w", err)
		}
		line = l
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return "", errors.New("no secret access key on stdin: pipe it in or type it when asked (it is never taken as an argument, so it stays out of the shell history)")
	}
	return line, nil
}

// checkSecretShape refuses what is plainly not a secret access key, the
// classic mix-ups: the access key id, or an SMTP password already.
func checkSecretShape(secret string) error {
	switch {
	case strings.ContainsAny(secret, " \t"):
		return errors.New("the secret access key has spaces in it: paste only the key (40 characters)")
	case ses.LooksLikeAccessKeyID(secret):
		return errors.New("that is an access key id (the SMTP user name), not the secret access key: give the 40-character secret shown when the key was created")
	case ses.LooksLikeSMTPPassword(secret):
		return errors.New("that looks like an SES SMTP password already (44 characters starting with B): it is used as is; give the IAM secret access key to derive one")
	}
	return nil
}

// newPostfixCmd is `sesame postfix`: the relay files written again from the
// sasl_passwd on disk, with no AWS call (after a port change, a lost
// snippet, or to render them for another Postfix directory).
func newPostfixCmd(s *ioStreams) *cobra.Command {
	var (
		out, region, postfixDir, osRelease string
		port                               int
	)
	cmd := &cobra.Command{
		Use:   "postfix --out DIR",
		Short: "Write the Postfix relay files again from the SMTP credentials on disk (no AWS call)",
		Long: `Write the Postfix relay files again from the sasl_passwd in --out.

sesame reads the SMTP credentials the wizard saved in DIR/sasl_passwd and
writes the main.cf snippet, sasl_passwd and apply-postfix.sh for the same
region. It makes no AWS call. Only sesame's entry in sasl_passwd changes:
other relays' entries stay, and a main.cf.snippet or apply-postfix.sh that
sesame did not write is never replaced. The region comes from sasl_passwd; --region
only confirms it, because the SMTP password works in its own region only.`,
		Example: `  sesame postfix --out ~/.local/share/sesame/example.com-eu-west-1
  sesame postfix --out ./ses --smtp-port 465      # TLS wrapper mode instead of STARTTLS
  sudo sh ./ses/apply-postfix.sh                  # then install them`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return exitWith(exitInput, &steps.InputError{Field: "out", Flag: "--out", Msg: "the directory holding sesame's sasl_passwd is required"})
			}
			if err := steps.ValidatePostfixDir(postfixDir); err != nil {
				return exitWith(exitInput, err)
			}
			passwdFile := filepath.Join(out, steps.SASLPasswdFile)
			// sesame's entry is the line for the region's SES host; the
			// file may hold other relays' entries too, which stay.
			var entry mta.Credentials
			var err error
			if region == "" {
				entry, err = steps.ReadSESCredentials(postfix.Target{}, out)
			} else {
				if err := steps.ValidateRegion(region); err != nil {
					return exitWith(exitInput, err)
				}
				r := strings.ToLower(strings.TrimSpace(region))
				entry, err = postfix.ReadSASLPasswdFor(out, ses.SMTPHost(r), ses.PortOrDefault(port))
				if errors.Is(err, os.ErrNotExist) {
					if other, oerr := steps.ReadSESCredentials(postfix.Target{}, out); oerr == nil {
						diskRegion := ses.RegionOfSMTPHost(other.Host)
						return exitWith(exitInput, &steps.InputError{Field: "region", Flag: "--region", Msg: fmt.Sprintf(
							"the SMTP password in %s was derived for %s and SES refuses it in %s; run the wizard with --region %s to make credentials for %s",
							passwdFile, diskRegion, r, r, r)})
					}
				}
			}
			var ie *steps.InputError
			switch {
			case errors.As(err, &ie):
				return exitWith(exitInput, err)
			case errors.Is(err, os.ErrNotExist):
				return exitWith(exitFailure, fmt.Errorf("no SMTP credentials in %s: run sesame first (its smtp-user step writes %s), or point --out at the directory that has them", out, steps.SASLPasswdFile))
			case err != nil:
				return exitWith(exitFailure, err)
			}
			diskRegion := ses.RegionOfSMTPHost(entry.Host)
			if diskRegion == "" {
				return exitWith(exitFailure, fmt.Errorf("%s names %s, not an SES SMTP host: it was not written by sesame", passwdFile, entry.Host))
			}
			if port == 0 {
				port = entry.Port
			}
			if err := steps.ValidateSMTPPort(port); err != nil {
				return exitWith(exitInput, err)
			}
			cfg := postfix.Config{Region: diskRegion, Port: port, Username: entry.Username, Password: entry.Password,
				PostfixDir: postfixDir, Distro: postfix.DetectDistro(osRelease)}
			paths, err := steps.WriteRelayFiles(out, cfg)
			if err != nil {
				return exitWith(exitFailure, err)
			}
			fmt.Fprintf(s.Out, "Postfix relay files for %s (%s):\n", cfg.RelayHost(), cfg.Distro.Name)
			for _, role := range []string{steps.RoleMainCF, steps.RoleSASLPasswd, steps.RoleApplyScript} {
				fmt.Fprintf(s.Out, "  %-17s %s\n", role, paths[role])
			}
			fmt.Fprintf(s.Out, "Install them on the mail server as root: sudo sh %s\n", paths[steps.RoleApplyScript])
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "the directory with sesame's sasl_passwd, where the files are written (required)")
	f.StringVar(&region, "region", "", "the region the credentials are for (checked against sasl_passwd)")
	f.IntVar(&port, "smtp-port", 0, "the SES SMTP port: "+ses.SMTPPortsText+"; default the one in sasl_passwd")
	f.StringVar(&postfixDir, "postfix-dir", steps.DefaultPostfixDir, "Postfix's configuration directory on the mail server")
	f.StringVar(&osRelease, "os-release", "/etc/os-release", "the os-release file that picks the CA bundle and SASL package (the mail server's, when rendering elsewhere)")
	return cmd
}
