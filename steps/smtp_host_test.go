package steps

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/state"
)

// hostResolver answers A lookups from a map; a name it lacks does not
// exist; err, when set, is every lookup's answer.
type hostResolver struct {
	a     map[string][]string
	err   error
	asked []string
}

func (r *hostResolver) Lookup(_ context.Context, name, qtype string) ([]string, error) {
	r.asked = append(r.asked, name+" "+qtype)
	if r.err != nil {
		return nil, r.err
	}
	return r.a[name], nil
}

// A region whose SMTP host does not exist is refused (exit 2, naming
// --region) when DNS can tell; when it cannot (no network, a resolver that
// does not know AWS's names, --demo), the run goes on. Source: AWS General
// Reference, "Amazon Simple Email Service endpoints and quotas", SMTP
// endpoints (email-smtp.<region>.amazonaws.com).
func TestCheckSMTPHost(t *testing.T) {
	control := "email-smtp.us-east-1.amazonaws.com"
	known := map[string][]string{control: {"192.0.2.1"}, "email-smtp.eu-west-3.amazonaws.com": {"192.0.2.2"}}
	tests := []struct {
		name    string
		region  string
		res     *hostResolver
		demo    bool
		refused bool
	}{
		{"the host exists", "eu-west-3", &hostResolver{a: known}, false, false},
		{"the host does not exist", "me-south-1", &hostResolver{a: known}, false, true},
		{"us-east-1 is its own control", "us-east-1", &hostResolver{a: known}, false, false},
		{"a resolver that knows no AWS name proves nothing", "me-south-1", &hostResolver{a: map[string][]string{}}, false, false},
		{"a failing resolver proves nothing", "me-south-1", &hostResolver{err: errors.New("i/o timeout")}, false, false},
		{"--demo does not check", "me-south-1", &hostResolver{a: known}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := NewEnv(awsapi.Clients{}, &state.Answers{Domain: "example.com", Region: tt.region}, Options{Demo: tt.demo})
			env.DNS = tt.res
			err := CheckSMTPHost(context.Background(), env)
			var ie *InputError
			switch {
			case tt.refused && (!errors.As(err, &ie) || ie.Flag != "--region" || !strings.Contains(ie.Msg, "email-smtp."+tt.region+".amazonaws.com does not exist")):
				t.Fatalf("err = %v, want an input error naming --region and the host", err)
			case !tt.refused && err != nil:
				t.Fatalf("err = %v, want none", err)
			}
			if tt.demo && len(tt.res.asked) > 0 {
				t.Errorf("--demo asked DNS: %v", tt.res.asked)
			}
		})
	}
	// No resolver at all: nothing to ask.
	env := NewEnv(awsapi.Clients{}, &state.Answers{Region: "me-south-1"}, Options{})
	if err := CheckSMTPHost(context.Background(), env); err != nil {
		t.Errorf("without a resolver: %v", err)
	}
}
