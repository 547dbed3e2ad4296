package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
)

// runCmd runs a command over buffers and returns stdout, stderr and the
// exit code its error maps to.
func runCmd(t *testing.T, newCmd func(*ioStreams) *cobra.Command, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	s := &ioStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut, InFd: -1}
	cmd := newCmd(s)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage = true
	err := cmd.Execute()
	code := exitOK
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		code = ee.Code
		if ee.Err != nil {
			errOut.WriteString(ee.Err.Error())
		}
	case err != nil:
		code = exitFailure
	}
	return out.String(), errOut.String(), code
}

func TestSMTPPasswordCmd(t *testing.T) {
	// The published test vectors (terraform-provider-aws), through stdin.
	tests := []struct {
		name, stdin string
		args        []string
		wantOut     string
		wantCode    int
		wantErr     string
	}{
		{"eu-central-1", "some+secret+key\n", []string{"--region", "eu-central-1"}, "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2\n", exitOK, ""},
		{"us-west-1 no newline", "another+secret+key", []string{"--region", "us-west-1"}, "BKVmjjMDFk/qqw8EROW99bjCS65PF8WKvK5bSr4Y6EqF\n", exitOK, ""},
		{"unknown region", "some+secret+key\n", []string{"--region", "mars-north-1"}, "", exitInput, "not an SES region"},
		{"region without smtp", "some+secret+key\n", []string{"--region", "eu-central-2"}, "", exitInput, "no SMTP endpoint"},
		{"no region", "some+secret+key\n", nil, "", exitInput, "a region is required"},
		{"empty stdin", "", []string{"--region", "us-east-1"}, "", exitInput, "no secret access key on stdin"},
		{"access key id instead", "AKIAIOSFODNN7EXAMPLE\n", []string{"--region", "us-east-1"}, "", exitInput, "access key id"},
		{"a password already", "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2\n", []string{"--region", "us-east-1"}, "", exitInput, "SMTP password already"},
		{"secret as argument", "", []string{"--region", "us-east-1", "some+secret+key"}, "", exitFailure, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, newSMTPPasswordCmd, tt.stdin, tt.args...)
			if out != tt.wantOut || code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("got out %q code %d err %q; want out %q code %d err containing %q", out, code, errOut, tt.wantOut, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestPostfixCmd(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	osRelease := filepath.Join(t.TempDir(), "os-release")
	if err := os.WriteFile(osRelease, []byte("ID=amzn\nPRETTY_NAME=\"Amazon Linux 2023\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		noCreds  bool
		wantCode int
		wantErr  string
		wantHost string // relayhost in the snippet
	}{
		{name: "from disk", wantHost: "[email-smtp.eu-west-1.amazonaws.com]:587"},
		{name: "port 465", args: []string{"--smtp-port", "465"}, wantHost: "[email-smtp.eu-west-1.amazonaws.com]:465"},
		{name: "matching region", args: []string{"--region", "eu-west-1"}, wantHost: "[email-smtp.eu-west-1.amazonaws.com]:587"},
		{name: "other region", args: []string{"--region", "us-east-1"}, wantCode: exitInput, wantErr: "derived for eu-west-1"},
		{name: "bad port", args: []string{"--smtp-port", "25"}, wantCode: exitInput, wantErr: "throttled on EC2"},
		{name: "no credentials", noCreds: true, wantCode: exitFailure, wantErr: "no SMTP credentials in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if !tt.noCreds {
				if _, err := postfix.WriteSASLPasswd(dir, mta.Credentials{Host: ses.SMTPHost("eu-west-1"), Port: 587,
					Username: "AKIAIOSFODNN7EXAMPLE", Password: mta.Secret(ses.SMTPPassword(secret, "eu-west-1"))}); err != nil {
					t.Fatal(err)
				}
			}
			args := append([]string{"--out", dir, "--os-release", osRelease}, tt.args...)
			out, errOut, code := runCmd(t, newPostfixCmd, "", args...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
				t.Fatalf("code %d err %q; want %d %q", code, errOut, tt.wantCode, tt.wantErr)
			}
			if strings.Contains(out+errOut, ses.SMTPPassword(secret, "eu-west-1")) {
				t.Fatal("the command printed the SMTP password")
			}
			if tt.wantHost == "" {
				return
			}
			snippet, err := os.ReadFile(filepath.Join(dir, steps.MainCFSnippetFile))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(snippet), "relayhost = "+tt.wantHost+"\n") || !strings.Contains(string(snippet), "/etc/ssl/certs/ca-bundle.crt") {
				t.Errorf("snippet:\n%s\nwant relayhost %s and the Amazon Linux CA bundle", snippet, tt.wantHost)
			}
			entry, err := postfix.ReadSASLPasswd(dir)
			if err != nil || postfix.RelayHostField(entry.Host, entry.Port) != tt.wantHost {
				t.Errorf("sasl_passwd %+v %v, want key %s", entry, err, tt.wantHost)
			}
			if !strings.Contains(out, "sudo sh "+filepath.Join(dir, steps.ApplyScriptFile)) {
				t.Errorf("output lacks the next step:\n%s", out)
			}
		})
	}
}

// `sesame postfix` over what the operator has in --out: another relay's
// entry in sasl_passwd stays, an operator's snippet is never replaced, a
// --postfix-dir that could break out of the script is refused, and a file
// with SES entries for two regions needs --region.
func TestPostfixCmdOperatorFiles(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	mine := mta.Credentials{Host: ses.SMTPHost("eu-west-1"), Port: 587, Username: "AKIAIOSFODNN7EXAMPLE",
		Password: mta.Secret(ses.SMTPPassword(secret, "eu-west-1"))}
	other := "# the operator's\n[smtp.other.example]:587 user:pass\n"
	tests := []struct {
		name     string
		passwd   string // sasl_passwd before
		snippet  string // main.cf.snippet before ("" none)
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "another relay's entry stays", passwd: other + postfix.Line(mine)},
		{name: "sesame's entry is found after another relay's", passwd: other + postfix.Line(mine), args: []string{"--region", "eu-west-1", "--smtp-port", "465"}},
		{name: "an operator's snippet is not replaced", passwd: other + postfix.Line(mine), snippet: "relayhost = [smtp.other.example]:587\n",
			wantCode: exitFailure, wantErr: "sesame did not write it"},
		{name: "a newline in --postfix-dir", passwd: postfix.Line(mine), args: []string{"--postfix-dir", "/etc/postfix\ntouch /tmp/PWNED\n#"},
			wantCode: exitInput, wantErr: "--postfix-dir"},
		{name: "a relative --postfix-dir", passwd: postfix.Line(mine), args: []string{"--postfix-dir", "etc/postfix"},
			wantCode: exitInput, wantErr: "absolute"},
		{name: "two SES regions need --region", passwd: postfix.Line(mine) + "[email-smtp.us-east-1.amazonaws.com]:587 AKIAOTHER:BOTHER\n",
			wantCode: exitInput, wantErr: "--region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			passwd := filepath.Join(dir, steps.SASLPasswdFile)
			if err := os.WriteFile(passwd, []byte(tt.passwd), 0o600); err != nil {
				t.Fatal(err)
			}
			if tt.snippet != "" {
				if err := os.WriteFile(filepath.Join(dir, steps.MainCFSnippetFile), []byte(tt.snippet), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, errOut, code := runCmd(t, newPostfixCmd, "", append([]string{"--out", dir}, tt.args...)...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
				t.Fatalf("code %d err %q; want %d %q", code, errOut, tt.wantCode, tt.wantErr)
			}
			got, _ := os.ReadFile(passwd)
			if !strings.HasPrefix(string(got), strings.TrimSuffix(tt.passwd, postfix.Line(mine))) {
				t.Errorf("sasl_passwd = %q: the lines before sesame's changed", got)
			}
			if tt.snippet != "" {
				if s, _ := os.ReadFile(filepath.Join(dir, steps.MainCFSnippetFile)); string(s) != tt.snippet {
					t.Errorf("the operator's snippet changed: %q", s)
				}
			}
			if code != exitOK {
				if string(got) != tt.passwd {
					t.Errorf("a refused run changed sasl_passwd: %q", got)
				}
				return
			}
			if _, err := os.Stat(filepath.Join(dir, steps.ApplyScriptFile)); err != nil {
				t.Errorf("no script: %v", err)
			}
		})
	}
}
