package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// parse runs the root command's flag parsing and env binding without
// running the wizard, and returns the options it produced.
func parse(t *testing.T, args []string, env map[string]string) (*options, error) {
	t.Helper()
	s := &ioStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}, InFd: -1}
	getenv := func(k string) string { return env[k] }
	root, got := newRootCmd(s, getenv)
	root.RunE = func(*cobra.Command, []string) error { return nil }
	root.SetArgs(args)
	err := root.Execute()
	return got, err
}

func TestFlagsAndEnv(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(*options) bool
	}{
		{"flags", []string{"--domain", "example.com", "--region", "eu-west-1", "--yes", "--mail-from", "mail"}, nil,
			func(o *options) bool {
				return o.domain == "example.com" && o.region == "eu-west-1" && o.yes && o.mailFrom == "mail"
			}},
		{"SESAME_* variables fill what flags don't", []string{"--domain", "flag.example"}, map[string]string{"SESAME_DOMAIN": "env.example", "SESAME_REGION": "us-west-2", "SESAME_NO_INPUT": "1", "SESAME_SMTP_PORT": "2587"},
			func(o *options) bool {
				return o.domain == "flag.example" && o.region == "us-west-2" && o.noInput && o.smtpPort == 2587
			}},
		{"an empty --mail-from is an answer", []string{"--mail-from", ""}, nil,
			func(o *options) bool { return o.mailFrom == "" && o.answers().MailFromAsked }},
		{"no --mail-from leaves the question open", nil, nil,
			func(o *options) bool { return !o.answers().MailFromAsked }},
		{"--no-wait wins over --wait", []string{"--no-wait"}, nil,
			func(o *options) bool { return o.stepOptions().NoWait }},
		{"repeatable flags", []string{"--replace-key", "AKIA1", "--replace-key", "AKIA2"}, nil,
			func(o *options) bool { return len(o.replaceKeys) == 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parse(t, tt.args, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(o) {
				t.Fatalf("options = %+v", o)
			}
		})
	}
}

func TestFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--domian", "x"}, nil, "Did you mean --domain?"},
		{[]string{"--smtp-prot", "587"}, nil, "Did you mean --smtp-port?"},
		{nil, map[string]string{"SESAME_SMTP_PORT": "many"}, "SESAME_SMTP_PORT"},
	}
	for _, tt := range tests {
		_, err := parse(t, tt.args, tt.env)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: err = %v, want %q", tt.args, tt.env, err, tt.want)
		}
	}
}

func TestRunExitCodeForBadFlag(t *testing.T) {
	var errOut bytes.Buffer
	s := &ioStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut, InFd: -1}
	if code := run([]string{"--no-such-flag"}, s, func(string) string { return "" }); code != exitInput {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitInput, errOut.String())
	}
}

// Each shell gets a completion script that completes sesame's flags.
func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_sesame", "zsh": "#compdef sesame", "fish": "complete -c sesame"} {
		var out bytes.Buffer
		s := &ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: &bytes.Buffer{}, InFd: -1}
		if code := run([]string{"completion", shell}, s, func(string) string { return "" }); code != exitOK {
			t.Fatalf("completion %s: exit %d", shell, code)
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("completion %s lacks %q", shell, want)
		}
	}
}
