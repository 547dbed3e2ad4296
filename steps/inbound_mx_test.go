package steps

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/state"
	"github.com/sesame-tool/sesame/steps/stepstest"
)

func TestInboundMX(t *testing.T) {
	tests := []struct {
		name     string
		zone     bool
		mx       []string // in the zone, or from the resolver without a zone
		dnsErr   error
		wantMX   []string
		detailIn string
	}{
		{name: "zone with MX", zone: true, mx: []string{"10 MX1.mailhost.example.net.", "20 mx2.mailhost.example.net"},
			wantMX: []string{"10 mx1.mailhost.example.net.", "20 mx2.mailhost.example.net."}, detailIn: "the 2 MX records of example.com stay"},
		{name: "zone without MX", zone: true, wantMX: []string{}, detailIn: "has no MX records"},
		{name: "no zone: public DNS", mx: []string{"10 mx.example.net."}, wantMX: []string{"10 mx.example.net."}, detailIn: "stay as they are"},
		{name: "no zone, lookup fails", dnsErr: errors.New("timeout"), detailIn: "never changes the MX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := stepstest.NewFakeRoute53()
			r := &dtResolver{answers: map[string][]string{}, errs: map[string]error{}}
			if tt.zone {
				id := f.AddZone("example.com", false)
				if len(tt.mx) > 0 {
					f.Put(id, "example.com", "MX", 300, tt.mx...)
				}
				f.Put(id, "a.example.com", "MX", 300, "10 not-the-apex.example.")
			} else {
				r.answers["example.com MX"] = tt.mx
				if tt.dnsErr != nil {
					r.errs["example.com MX"] = tt.dnsErr
				}
			}
			env := NewEnv(awsapi.Clients{Route53: f}, &state.Answers{Domain: "example.com", Region: "eu-west-1"}, Options{})
			env.DNS = r
			var reports []*MXReport
			env.Emit = func(e Event) {
				if m, ok := e.Data.(*MXReport); ok {
					reports = append(reports, m)
				}
			}
			res := mustCheck(t, InboundMX{}, env, StatusSkipped)
			if !strings.Contains(res.Detail, tt.detailIn) {
				t.Errorf("detail %q lacks %q", res.Detail, tt.detailIn)
			}
			if len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "inbound-smtp.eu-west-1.amazonaws.com") || !strings.Contains(res.Warnings[0], "replace every MX record") {
				t.Errorf("warnings %q", res.Warnings)
			}
			if tt.wantMX != nil {
				if len(reports) != 1 || !slices.Equal(reports[0].Records, tt.wantMX) {
					t.Fatalf("reports %+v, want %q", reports, tt.wantMX)
				}
			}
			if err := (InboundMX{}).Apply(context.Background(), env); err != nil || f.Mutations() != 0 {
				t.Fatalf("Apply: %v, %d writes", err, f.Mutations())
			}
		})
	}
}
