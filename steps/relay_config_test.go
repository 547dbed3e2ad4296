package steps

import (
	"errors"
	"strings"
	"testing"

	"github.com/sesame-tool/sesame/steps/mta/postfix"
)

func TestValidateRelayConfig(t *testing.T) {
	good := postfix.Config{Region: "us-east-1", Port: 587, Username: testKeyID, Password: "BPW"}
	tests := []struct {
		name  string
		edit  func(*postfix.Config)
		input bool   // an *InputError
		want  string // in the message
	}{
		{"no smtp region", func(c *postfix.Config) { c.Region = "eu-central-2" }, true, "no SMTP endpoint"},
		{"port 25", func(c *postfix.Config) { c.Port = 25 }, true, "throttled on EC2"},
		{"odd port", func(c *postfix.Config) { c.Port = 2525 }, true, "--smtp-port"},
		{"no password", func(c *postfix.Config) { c.Password = "" }, false, "smtp-user step"},
		{"colon in user", func(c *postfix.Config) { c.Username = "a:b" }, false, "colon"},
	}
	if err := ValidateRelayConfig(good); err != nil {
		t.Fatalf("ValidateRelayConfig(good) = %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			err := ValidateRelayConfig(c)
			var ie *InputError
			if err == nil || errors.As(err, &ie) != tt.input || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ValidateRelayConfig() = %v, want an error with %q (input error %v)", err, tt.want, tt.input)
			}
		})
	}
}
