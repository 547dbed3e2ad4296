package awssim

import (
	"strings"
	"testing"
)

func TestParseFaults(t *testing.T) {
	tests := []struct {
		spec string
		want Faults
		err  string
	}{
		{"", Faults{}, ""},
		{"throttle=0.25,5xx=0.1,drop=0.05", Faults{Throttle: 0.25, Server: 0.1, Drop: 0.05}, ""},
		{" drop = 1 ", Faults{Drop: 1}, ""},
		{"throttle", Faults{}, "not KIND=RATE"},
		{"slow=0.1", Faults{}, `unknown kind "slow"`},
		{"5xx=2", Faults{}, "from 0 to 1"},
		{"5xx=abc", Faults{}, "from 0 to 1"},
		{"drop=0.1,drop=0.2", Faults{}, "given twice"},
		{"throttle=0.6,5xx=0.6", Faults{}, "more than 1"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseFaults(tt.spec)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseFaults = %+v, %v; want %+v", got, err, tt.want)
			}
			if back, err := ParseFaults(got.String()); err != nil || back != got {
				t.Errorf("String %q does not parse back: %+v, %v", got.String(), back, err)
			}
		})
	}
}

func TestParseDeny(t *testing.T) {
	tests := []struct {
		spec string
		want string
		err  bool
	}{
		{"", "", false},
		{"iam:CreateUser", "iam:CreateUser", false},
		{"iam:CreateUser, sesv2:GetAccount,route53:ChangeResourceRecordSets,sts:GetCallerIdentity", "iam:CreateUser,ses:GetAccount,route53:ChangeResourceRecordSets,sts:GetCallerIdentity", false},
		{"CreateUser", "", true},
		{"ec2:RunInstances", "", true},
		{"iam:", "", true},
		{"iam:*", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseDeny(tt.spec)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("ParseDeny = %v, want %s", got, tt.want)
			}
		})
	}
}
