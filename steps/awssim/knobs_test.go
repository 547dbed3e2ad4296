package awssim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// logBuffer is a request log written by server goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLatencyDelaysEveryAnswer(t *testing.T) {
	// The Sim sleeps before answering, so a deadline shorter than the
	// latency always expires; no timing is measured.
	c := stsClient(endpoint(t, New(Options{Latency: 300 * time.Millisecond})))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GetCallerIdentity with 300ms latency and a 20ms deadline: %v, want the deadline exceeded", err)
	}
}

func BenchmarkLatency(b *testing.B) {
	for _, lat := range []time.Duration{0, time.Millisecond} {
		b.Run(lat.String(), func(b *testing.B) {
			sim := New(Options{Latency: lat})
			url, stop, err := sim.Start("127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer stop()
			c := stsClient(url)
			for b.Loop() {
				if _, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// faultRun makes n ListUsers calls and returns what each got: a status,
// an error code, or "drop".
func faultRun(t *testing.T, seed int64, n int) []string {
	t.Helper()
	f, err := ParseFaults("throttle=0.25,5xx=0.1,drop=0.05")
	if err != nil {
		t.Fatal(err)
	}
	c := iamClient(endpoint(t, New(Options{Faults: f, Seed: seed})))
	var out []string
	for i := 0; i < n; i++ {
		_, err := c.ListUsers(context.Background(), &iam.ListUsersInput{})
		switch code := apiCode(err); {
		case err == nil:
			out = append(out, "ok")
		case code != "":
			out = append(out, code)
		default:
			out = append(out, "drop")
		}
	}
	return out
}

func TestFaultsAreSeeded(t *testing.T) {
	a, b := faultRun(t, 7, 60), faultRun(t, 7, 60)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	count := map[string]int{}
	for _, r := range a {
		count[r]++
	}
	for _, want := range []string{"ok", "Throttling", "drop"} {
		if count[want] == 0 {
			t.Errorf("60 calls at throttle=0.25,5xx=0.1,drop=0.05 gave no %s: %v", want, count)
		}
	}
	if count["InternalFailure"]+count["ServiceUnavailable"] == 0 {
		t.Errorf("no 5xx in 60 calls: %v", count)
	}
	if c := faultRun(t, 8, 60); strings.Join(c, ",") == strings.Join(a, ",") {
		t.Error("another seed gave the same faults")
	}
}

func TestDeny(t *testing.T) {
	ctx := context.Background()
	deny, err := ParseDeny("iam:CreateUser,route53:ChangeResourceRecordSets")
	if err != nil {
		t.Fatal(err)
	}
	sim := New(Options{Deny: deny})
	u := endpoint(t, sim)
	zone := sim.CreateZone("example.com", false)
	tests := []struct {
		name, msg string
		call      func() error
	}{
		{"iam:CreateUser", "User: arn:aws:iam::123456789012:user/operator is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::123456789012:user/relay because no identity-based policy allows the iam:CreateUser action",
			func() error {
				_, err := iamClient(u).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("relay")})
				return err
			}},
		{"route53:ChangeResourceRecordSets", "User: arn:aws:iam::123456789012:user/operator is not authorized to perform: route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/" + zone + " because no identity-based policy allows the route53:ChangeResourceRecordSets action",
			func() error {
				_, err := applyBatch(ctx, r53Client(u), zone, rr("CREATE", "x.example.com", "TXT", 300, `"x"`))
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if apiCode(err) != "AccessDenied" || apiMessage(err) != tt.msg {
				t.Errorf("got %s %q\nwant AccessDenied %q", apiCode(err), apiMessage(err), tt.msg)
			}
		})
	}
	if len(sim.Users()) != 0 || len(sim.RecordSets(zone)) != 2 {
		t.Error("a denied call changed the account")
	}
	// Actions not listed still work.
	if _, err := iamClient(u).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Errorf("ListUsers (not denied): %v", err)
	}
}

func TestHangAfter(t *testing.T) {
	ctx := context.Background()
	var log logBuffer
	sim := New(Options{HangAfter: "CreateAccessKey", Log: &log})
	c := iamClient(endpoint(t, sim))
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("relay")}); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err := c.CreateAccessKey(short, &iam.CreateAccessKeyInput{UserName: aws.String("relay")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hung CreateAccessKey: %v, want the client's deadline exceeded", err)
	}
	if keys := sim.AccessKeys("relay"); len(keys) != 1 {
		t.Fatalf("after the hang the user has keys %v, want the one created", keys)
	}
	// Only the first success hangs.
	if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("relay")}); err != nil {
		t.Fatalf("second CreateAccessKey: %v", err)
	}
	want := "iam CreateUser 200\niam CreateAccessKey -\niam CreateAccessKey 200\n"
	if got := log.String(); got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
}

// "OP#N" hangs the Nth success of OP only.
func TestHangAfterNth(t *testing.T) {
	ctx := context.Background()
	var log logBuffer
	sim := New(Options{HangAfter: "CreateAccessKey#2", Log: &log})
	c := iamClient(endpoint(t, sim))
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("relay")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("relay")}); err != nil {
		t.Fatalf("first CreateAccessKey: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := c.CreateAccessKey(short, &iam.CreateAccessKeyInput{UserName: aws.String("relay")}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second CreateAccessKey: %v, want the client's deadline exceeded", err)
	}
	if want, got := "iam CreateUser 200\niam CreateAccessKey 200\niam CreateAccessKey -\n", log.String(); got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
	if keys := sim.AccessKeys("relay"); len(keys) != 2 {
		t.Errorf("keys %v, want both created", keys)
	}
}

func TestUnsignedRequestsAreRefused(t *testing.T) {
	u := endpoint(t, New(Options{}))
	tests := []struct {
		name, method, path, body, want string
	}{
		{"iam", "POST", "/", "Action=ListUsers&Version=2010-05-08", "<Code>MissingAuthenticationToken</Code>"},
		{"sts", "POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", "https://sts.amazonaws.com/doc/2011-06-15/"},
		{"route53", "GET", "/2013-04-01/hostedzone", "", "<Code>MissingAuthenticationTokenException</Code>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, u+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 403 || !strings.Contains(string(body), tt.want) {
				t.Errorf("unsigned %s: %d %s, want 403 containing %s", tt.name, resp.StatusCode, body, tt.want)
			}
		})
	}
}

func TestRequestLog(t *testing.T) {
	ctx := context.Background()
	var log logBuffer
	sim := New(Options{Log: &log})
	u := endpoint(t, sim)
	_, _ = stsClient(u).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	_, _ = iamClient(u).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("ghost")})
	_, _ = r53Client(u).ListHostedZones(ctx, &route53.ListHostedZonesInput{})
	want := "sts GetCallerIdentity 200\niam GetUser 404\nroute53 ListHostedZones 200\n"
	if got := log.String(); got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
	if calls := sim.Calls(); len(calls) != 3 || fmt.Sprint(calls[1]) != "{iam GetUser us-east-1 404}" {
		t.Errorf("Calls = %v", calls)
	}
}
