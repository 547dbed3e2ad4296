package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The AWS CLI (botocore) against sesame-sim shows the real error code and
// message for every error the sim produces, so an operator debugging with
// `aws --endpoint-url` sees what AWS would say. Each case is one CLI call
// whose answer must read "An error occurred (<Code>) when calling the <Op>
// operation: <message>"; an error the CLI cannot parse reads
// "An error occurred ()" or "(Unknown)".
func TestAWSCLIReadsEverySimError(t *testing.T) {
	t.Parallel()
	cli, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI is not installed")
	}
	sim := startSim(t, "--deny", "iam:ListAccessKeys", "--identity-quota", "1", "--disabled-regions", "eu-south-1")
	home := t.TempDir()
	run := cliRunner(t, cli, sim.url, home)
	must := func(args ...string) string {
		t.Helper()
		out, ok := run(args...)
		if !ok {
			t.Fatalf("aws %s failed:\n%s", strings.Join(args, " "), out)
		}
		return out
	}
	// Set-up: a user with two keys, a zone with a record, an identity (the
	// quota's one), a production-access request under review.
	must("iam", "create-user", "--user-name", "cli-user")
	zone := must("route53", "create-hosted-zone", "--name", "cli.example", "--caller-reference", "cli-1")
	i := strings.Index(zone, "/hostedzone/")
	if i < 0 {
		t.Fatalf("create-hosted-zone said:\n%s", zone)
	}
	zoneID := zone[i+len("/hostedzone/"):]
	zoneID = zoneID[:strings.IndexAny(zoneID, "\"")]
	batch := `{"Changes":[{"Action":"CREATE","ResourceRecordSet":{"Name":"a.cli.example","Type":"TXT","TTL":300,"ResourceRecords":[{"Value":"\"x\""}]}}]}`
	must("route53", "change-resource-record-sets", "--hosted-zone-id", zoneID, "--change-batch", batch)
	must("sesv2", "create-email-identity", "--email-identity", "cli.example")
	must("iam", "create-access-key", "--user-name", "cli-user")
	must("iam", "create-access-key", "--user-name", "cli-user")
	review := []string{"sesv2", "put-account-details", "--mail-type", "TRANSACTIONAL", "--website-url", "https://cli.example", "--production-access-enabled"}
	must(review...)

	checkCLI(t, run, []cliCase{
		{"AccessDenied (--deny)", "AccessDenied", "ListAccessKeys", "is not authorized to perform: iam:ListAccessKeys",
			[]string{"iam", "list-access-keys", "--user-name", "cli-user"}},
		{"EntityAlreadyExists", "EntityAlreadyExists", "CreateUser", "cli-user",
			[]string{"iam", "create-user", "--user-name", "cli-user"}},
		{"NoSuchEntity", "NoSuchEntity", "GetUser", "nobody",
			[]string{"iam", "get-user", "--user-name", "nobody"}},
		{"LimitExceeded (a third access key)", "LimitExceeded", "CreateAccessKey", "AccessKeysPerUser",
			[]string{"iam", "create-access-key", "--user-name", "cli-user"}},
		{"InvalidChangeBatch (standard form)", "InvalidChangeBatch", "ChangeResourceRecordSets", "[Tried to create resource record set [name='a.cli.example.', type='TXT'] but it already exists]",
			[]string{"route53", "change-resource-record-sets", "--hosted-zone-id", zoneID, "--change-batch", batch}},
		{"NoSuchHostedZone", "NoSuchHostedZone", "GetHostedZone", "Z0000000000000000000",
			[]string{"route53", "get-hosted-zone", "--id", "Z0000000000000000000"}},
		{"NotFoundException", "NotFoundException", "GetEmailIdentity", "nothing.example",
			[]string{"sesv2", "get-email-identity", "--email-identity", "nothing.example"}},
		{"AlreadyExistsException", "AlreadyExistsException", "CreateEmailIdentity", "cli.example",
			[]string{"sesv2", "create-email-identity", "--email-identity", "cli.example"}},
		{"LimitExceededException (--identity-quota)", "LimitExceededException", "CreateEmailIdentity", "Maximum number of identities",
			[]string{"sesv2", "create-email-identity", "--email-identity", "other.example"}},
		{"ConflictException (a second review request)", "ConflictException", "PutAccountDetails", "ongoing account details update",
			review},
		{"BadRequestException", "BadRequestException", "CreateEmailIdentity", "Invalid domain name",
			[]string{"sesv2", "create-email-identity", "--email-identity", "not a domain"}},
		{"UnrecognizedClientException (--disabled-regions, SES v2)", "UnrecognizedClientException", "GetAccount", "security token included in the request is invalid",
			[]string{"sesv2", "get-account", "--region", "eu-south-1"}},
		{"ValidationError (a bad user name)", "ValidationError", "CreateUser", "failed to satisfy constraint",
			[]string{"iam", "create-user", "--user-name", "bad name"}},
		{"MalformedPolicyDocument", "MalformedPolicyDocument", "PutUserPolicy", "Syntax errors in policy",
			[]string{"iam", "put-user-policy", "--user-name", "cli-user", "--policy-name", "p", "--policy-document", "{not json"}},
		{"HostedZoneAlreadyExists", "HostedZoneAlreadyExists", "CreateHostedZone", "caller reference",
			[]string{"route53", "create-hosted-zone", "--name", "cli.example", "--caller-reference", "cli-1"}},
		{"InvalidDomainName", "InvalidDomainName", "CreateHostedZone", "is not a valid domain name",
			[]string{"route53", "create-hosted-zone", "--name", "bad..name", "--caller-reference", "cli-2"}},
		{"NoSuchChange", "NoSuchChange", "GetChange", "C0000000000000000000",
			[]string{"route53", "get-change", "--id", "C0000000000000000000"}},
		{"InvalidClientTokenId (--disabled-regions, STS)", "InvalidClientTokenId", "GetCallerIdentity", "security token included in the request is invalid",
			[]string{"sts", "get-caller-identity", "--region", "eu-south-1"}},
	})

	// Every call throttled (--faults throttle=1): each service's own code.
	throttled := startSim(t, "--faults", "throttle=1")
	checkCLI(t, cliRunner(t, cli, throttled.url, home), []cliCase{
		{"TooManyRequestsException (SES v2 throttled)", "TooManyRequestsException", "GetAccount", "Too many requests",
			[]string{"sesv2", "get-account"}},
		{"Throttling (IAM throttled)", "Throttling", "GetUser", "Rate exceeded", []string{"iam", "get-user", "--user-name", "x"}},
		{"Throttling (Route 53 throttled)", "Throttling", "ListHostedZones", "Rate exceeded", []string{"route53", "list-hosted-zones"}},
	})
}

// cliCase is one AWS CLI call expected to fail with code and a message
// holding msg, from operation op.
type cliCase struct {
	name, code, op, msg string
	args                []string
}

// checkCLI runs each case and requires the CLI's own error line:
// "An error occurred (<Code>) when calling the <Op> operation[ (reached
// max retries: N)]: <message>".
func checkCLI(t *testing.T, run func(...string) (string, bool), tests []cliCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, ok := run(tt.args...)
			if ok {
				t.Fatalf("aws %s succeeded:\n%s", strings.Join(tt.args, " "), out)
			}
			want := regexp.MustCompile(`An error occurred \(` + tt.code + `\) when calling the ` + tt.op + ` operation( \(reached max retries: \d+\))?: .*` + regexp.QuoteMeta(tt.msg))
			if !want.MatchString(out) {
				t.Errorf("aws %s said:\n%s\nwant %s", strings.Join(tt.args, " "), out, want)
			}
		})
	}
}

// cliRunner runs the AWS CLI against the sim at url, one attempt per call,
// with no configuration but fake credentials in the environment.
func cliRunner(t *testing.T, cli, url, home string) func(...string) (string, bool) {
	return func(args ...string) (string, bool) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, cli, append([]string{"--endpoint-url", url, "--output", "json"}, args...)...)
		cmd.Env = []string{
			"HOME=" + home, "PATH=" + os.Getenv("PATH"),
			"AWS_ACCESS_KEY_ID=AKIAOPERATOR00000000", "AWS_SECRET_ACCESS_KEY=operator-secret-key-0000000000000000000000",
			"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=" + filepath.Join(home, "nonexistent"),
			"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "nonexistent"), "AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard",
		}
		out, err := cmd.CombinedOutput()
		return string(out), err == nil
	}
}
