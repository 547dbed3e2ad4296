package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// denyingFront is an endpoint in front of sim that sends the requests
// match picks to a second sesame-sim started with --deny (so the denial is
// the simulator's own AccessDenied text), while deny is set, and every
// other request to sim. Clearing deny is the administrator granting the
// permission: the account's state stays in sim.
func denyingFront(t *testing.T, sim *simProc, action string, match func(*http.Request, []byte) bool) (*simProc, *atomic.Bool) {
	t.Helper()
	denier := startSim(t, "--deny", action)
	proxyTo := func(p *simProc) *httputil.ReverseProxy {
		u, _ := url.Parse(p.url)
		return httputil.NewSingleHostReverseProxy(u)
	}
	main, deny := proxyTo(sim), proxyTo(denier)
	var denying atomic.Bool
	denying.Store(true)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if denying.Load() && match(r, body) {
			deny.ServeHTTP(w, r)
			return
		}
		main.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return &simProc{url: front.URL, dns: sim.dns, smtp: sim.smtp, cert: sim.cert}, &denying
}

// AccessDenied on a mutating call: exit 1, the message names the action
// and the resource's ARN and points to `sesame policy`; once allowed, the
// next run resumes and completes, having made each thing once.
func TestDenialNamesActionAndResourceThenResumes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		action, op, resource string
		match                func(*http.Request, []byte) bool
	}{
		{"iam:CreateUser", "CreateUser", "arn:aws:iam::123456789012:user/ses-smtp-example-com",
			func(r *http.Request, body []byte) bool { return bytes.Contains(body, []byte("Action=CreateUser&")) }},
		{"route53:ChangeResourceRecordSets", "ChangeResourceRecordSets", "hostedzone/Z",
			func(r *http.Request, _ []byte) bool {
				return r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/rrset")
			}},
		{"ses:CreateEmailIdentity", "CreateEmailIdentity", "arn:aws:ses:us-east-1:123456789012:identity/example.com",
			func(r *http.Request, _ []byte) bool {
				return r.Method == http.MethodPost && strings.TrimSuffix(r.URL.Path, "/") == "/v2/email/identities"
			}},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t)
			front, denying := denyingFront(t, sim, tt.action, tt.match)
			home := t.TempDir()
			args := onboardArgs(filepath.Join(home, "relay"))

			r := front.sesame(t, home, args...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
			}
			for _, want := range []string{tt.action, tt.resource, "sesame policy"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("the denial does not say %q:\n%s", want, r.stderr)
				}
			}
			if n := sim.countApplied(tt.op); n != 0 {
				t.Fatalf("%s took effect %d times while denied", tt.op, n)
			}

			denying.Store(false)
			assertComplete(t, front.sesame(t, home, args...))
			for _, op := range []string{"CreateUser", "CreateAccessKey", "CreateEmailIdentity", "ChangeResourceRecordSets"} {
				if n := sim.countApplied(op); n != 1 {
					t.Errorf("%s took effect %d times over both runs, want 1: %v", op, n, sim.mutating())
				}
			}
		})
	}
}
