package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestPolicyCommand: sesame policy covers the SMTP user the operator names
// (--smtp-user, or SESAME_SMTP_USER) and writes its ARNs in the partition
// of --region or --partition (IAM refuses arn:aws: in GovCloud with
// MalformedPolicyDocument; IAM User Guide, "IAM identifiers", "IAM ARNs").
func TestPolicyCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		want     []string
		notWant  []string
	}{
		{"default", []string{"policy"}, nil, exitOK, []string{`"arn:aws:iam::*:user/ses-smtp-*"`}, nil},
		{"--smtp-user", []string{"policy", "--smtp-user", "mail-relay"}, nil, exitOK, []string{`"arn:aws:iam::*:user/mail-relay"`}, []string{"ses-smtp-*"}},
		{"SESAME_SMTP_USER", []string{"policy"}, map[string]string{"SESAME_SMTP_USER": "relay2"}, exitOK, []string{`"arn:aws:iam::*:user/relay2"`}, nil},
		{"GovCloud region", []string{"policy", "--region", "us-gov-west-1"}, nil, exitOK, []string{`"arn:aws-us-gov:iam::*:user/ses-smtp-*"`, `"arn:aws-us-gov:route53:::hostedzone/*"`}, []string{`"arn:aws:`}},
		{"China partition", []string{"policy", "--partition", "aws-cn"}, nil, exitOK, []string{`"arn:aws-cn:route53:::change/*"`}, []string{`"arn:aws:`}},
		{"bad user name", []string{"policy", "--smtp-user", "bad name"}, nil, exitInput, nil, nil},
		{"bad partition", []string{"policy", "--partition", "aws-eu"}, nil, exitInput, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			s := &ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, InFd: -1}
			code := run(tt.args, s, func(k string) string { return tt.env[k] })
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, tt.wantCode, errOut.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("policy lacks %s:\n%s", w, out.String())
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out.String(), w) {
					t.Errorf("policy has %s:\n%s", w, out.String())
				}
			}
			if tt.wantCode == exitInput && !strings.Contains(errOut.String(), "--") {
				t.Errorf("the refusal names no flag: %s", errOut.String())
			}
		})
	}
}
