package awssim

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// apiCode returns the AWS error code of err, "" if it is not an API error.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

func TestIAMUsersAndTags(t *testing.T) {
	ctx := context.Background()
	c := iamClient(endpoint(t, New(Options{})))

	out, err := c.CreateUser(ctx, &iam.CreateUserInput{
		UserName: aws.String("ses-smtp-user.20260101-000000"),
		Tags:     []iamtypes.Tag{{Key: aws.String("created-by"), Value: aws.String("sesame")}},
	})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	u := out.User
	if got, want := aws.ToString(u.Arn), "arn:aws:iam::123456789012:user/ses-smtp-user.20260101-000000"; got != want {
		t.Errorf("Arn = %q, want %q", got, want)
	}
	if !regexp.MustCompile(`^AIDA[A-Z0-9]{17}$`).MatchString(aws.ToString(u.UserId)) || u.CreateDate == nil {
		t.Errorf("UserId %q / CreateDate %v not as AWS returns them", aws.ToString(u.UserId), u.CreateDate)
	}
	if len(u.Tags) != 1 || aws.ToString(u.Tags[0].Value) != "sesame" {
		t.Errorf("Tags = %+v, want created-by=sesame", u.Tags)
	}

	if _, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("SES-SMTP-USER.20260101-000000"), Tags: []iamtypes.Tag{
		{Key: aws.String("created-by"), Value: aws.String("sesame 2")}, {Key: aws.String("domain"), Value: aws.String("example.com")},
	}}); err != nil {
		t.Fatalf("TagUser (other case): %v", err)
	}
	got, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("ses-smtp-user.20260101-000000")})
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	tags := map[string]string{}
	for _, tg := range got.User.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags["created-by"] != "sesame 2" || tags["domain"] != "example.com" || len(tags) != 2 {
		t.Errorf("tags after TagUser = %v, want the value replaced and one added", tags)
	}
}

func TestIAMErrors(t *testing.T) {
	ctx := context.Background()
	c := iamClient(endpoint(t, New(Options{})))
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("relay")}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("relay")}); err != nil {
			t.Fatalf("CreateAccessKey %d: %v", i+1, err)
		}
	}
	var (
		exists  *iamtypes.EntityAlreadyExistsException
		noSuch  *iamtypes.NoSuchEntityException
		limit   *iamtypes.LimitExceededException
		badDoc  *iamtypes.MalformedPolicyDocumentException
		generic smithy.APIError
	)
	tests := []struct {
		name   string
		call   func() error
		target any
		code   string
		msg    string
	}{
		{"duplicate name, other case", func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("RELAY")})
			return err
		}, &exists, "EntityAlreadyExists", "User with name RELAY already exists."},
		{"GetUser of a missing user", func() error {
			_, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("ghost")})
			return err
		}, &noSuch, "NoSuchEntity", "The user with name ghost cannot be found."},
		{"third access key", func() error {
			_, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("relay")})
			return err
		}, &limit, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2"},
		{"policy that is not JSON", func() error {
			_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("relay"), PolicyName: aws.String("p"), PolicyDocument: aws.String("{nope")})
			return err
		}, &badDoc, "MalformedPolicyDocument", "Syntax errors in policy."},
		{"policy without a statement", func() error {
			_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("relay"), PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17"}`)})
			return err
		}, &badDoc, "MalformedPolicyDocument", "Missing required field Statement"},
		{"policy of a missing user", func() error {
			_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ghost"), PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Statement":[]}`)})
			return err
		}, &noSuch, "NoSuchEntity", "The user with name ghost cannot be found."},
		{"GetUserPolicy of a missing policy", func() error {
			_, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("relay"), PolicyName: aws.String("none")})
			return err
		}, &noSuch, "NoSuchEntity", "The user policy with name none cannot be found."},
		{"DeleteAccessKey of a missing key", func() error {
			_, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("relay"), AccessKeyId: aws.String("AKIA0000000000000000")})
			return err
		}, &noSuch, "NoSuchEntity", "The Access Key with id AKIA0000000000000000 cannot be found."},
		{"ListAccessKeys of a missing user", func() error {
			_, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("ghost")})
			return err
		}, &noSuch, "NoSuchEntity", "The user with name ghost cannot be found."},
		{"invalid user name", func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("no spaces")})
			return err
		}, &generic, "ValidationError", "1 validation error detected: Value 'no spaces' at 'userName'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.As(err, tt.target) {
				t.Errorf("error %v does not decode as %T", err, tt.target)
			}
			if apiCode(err) != tt.code || !strings.HasPrefix(apiMessage(err), tt.msg) {
				t.Errorf("got %s %q, want %s %q", apiCode(err), apiMessage(err), tt.code, tt.msg)
			}
		})
	}
}

func TestIAMPolicies(t *testing.T) {
	ctx := context.Background()
	c := iamClient(endpoint(t, New(Options{})))
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("relay")}); err != nil {
		t.Fatal(err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":"*"}]}`
	for _, name := range []string{"b-send", "a-send", "c-send"} {
		if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("relay"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatalf("PutUserPolicy %s: %v", name, err)
		}
	}
	got, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("relay"), PolicyName: aws.String("a-send")})
	if err != nil {
		t.Fatal(err)
	}
	enc := aws.ToString(got.PolicyDocument)
	if strings.ContainsAny(enc, `{":`) {
		t.Errorf("PolicyDocument %q is not URL-encoded as AWS returns it", enc)
	}
	if dec, err := url.QueryUnescape(enc); err != nil || dec != doc {
		t.Errorf("decoded PolicyDocument = %q (%v), want %q", dec, err, doc)
	}

	// Pagination: one name per page, in order.
	var names []string
	p := iam.NewListUserPoliciesPaginator(c, &iam.ListUserPoliciesInput{UserName: aws.String("relay"), MaxItems: aws.Int32(1)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		names = append(names, out.PolicyNames...)
	}
	if strings.Join(names, ",") != "a-send,b-send,c-send" || pages != 3 {
		t.Errorf("ListUserPolicies pages = %d, names %v; want 3 pages a,b,c", pages, names)
	}
}

func TestIAMListUsersPagination(t *testing.T) {
	ctx := context.Background()
	sim := New(Options{})
	c := iamClient(endpoint(t, sim))
	want := []string{"u1", "u2", "u3", "u4", "u5"}
	for _, n := range want {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Users) > 2 {
			t.Errorf("page of %d users, MaxItems 2", len(out.Users))
		}
		for _, u := range out.Users {
			got = append(got, aws.ToString(u.UserName))
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ListUsers = %v, want %v", got, want)
	}
	if strings.Join(sim.Users(), ",") != strings.Join(want, ",") {
		t.Errorf("Sim.Users = %v", sim.Users())
	}
}

func TestIAMAccessKeys(t *testing.T) {
	ctx := context.Background()
	sim := New(Options{})
	u := endpoint(t, sim)
	c := iamClient(u)
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("relay")}); err != nil {
		t.Fatal(err)
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("relay")})
	if err != nil {
		t.Fatal(err)
	}
	id, secret := aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)
	if !regexp.MustCompile(`^AKIA[A-Z0-9]{16}$`).MatchString(id) || len(secret) != 40 || k.AccessKey.Status != iamtypes.StatusTypeActive {
		t.Errorf("key id %q, secret of %d chars, status %s; want AKIA+16, 40, Active", id, len(secret), k.AccessKey.Status)
	}
	if s, ok := sim.SecretForKey(id); !ok || s != secret {
		t.Error("SecretForKey does not return the issued secret")
	}

	list, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("relay")})
	if err != nil || len(list.AccessKeyMetadata) != 1 || aws.ToString(list.AccessKeyMetadata[0].AccessKeyId) != id {
		t.Fatalf("ListAccessKeys = %+v, %v; want the one key", list, err)
	}

	// Never used yet: AWS answers N/A.
	lu, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
	if err != nil || aws.ToString(lu.AccessKeyLastUsed.ServiceName) != "N/A" || lu.AccessKeyLastUsed.LastUsedDate != nil || aws.ToString(lu.UserName) != "relay" {
		t.Fatalf("GetAccessKeyLastUsed before use = %+v, %v", lu.AccessKeyLastUsed, err)
	}
	// A request signed with the key: STS names the user, last-used is set.
	keyCreds := aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, nil
	}))
	who, err := sts.New(sts.Options{Region: "eu-west-1", BaseEndpoint: aws.String(u), Credentials: keyCreds, RetryMaxAttempts: 1}).
		GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:iam::123456789012:user/relay" || aws.ToString(who.Account) != "123456789012" {
		t.Fatalf("GetCallerIdentity as the key = %+v, %v", who, err)
	}
	lu, err = c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
	if err != nil || aws.ToString(lu.AccessKeyLastUsed.ServiceName) != "sts" || aws.ToString(lu.AccessKeyLastUsed.Region) != "eu-west-1" || lu.AccessKeyLastUsed.LastUsedDate == nil {
		t.Errorf("GetAccessKeyLastUsed after use = %+v, %v; want sts in eu-west-1", lu.AccessKeyLastUsed, err)
	}

	// UpdateAccessKey: an inactive key stays listed and no longer
	// authenticates (SMTP AUTH goes through SecretForKey); Active again,
	// it does. A status other than the two is a ValidationError.
	for _, tt := range []struct {
		status iamtypes.StatusType
		works  bool
	}{{iamtypes.StatusTypeInactive, false}, {iamtypes.StatusTypeActive, true}} {
		if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("relay"), AccessKeyId: aws.String(id), Status: tt.status}); err != nil {
			t.Fatalf("UpdateAccessKey %s: %v", tt.status, err)
		}
		list, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("relay")})
		if err != nil || len(list.AccessKeyMetadata) != 1 || list.AccessKeyMetadata[0].Status != tt.status {
			t.Fatalf("after UpdateAccessKey %s: %+v, %v", tt.status, list, err)
		}
		if _, ok := sim.SecretForKey(id); ok != tt.works {
			t.Errorf("a key made %s authenticates: %v, want %v", tt.status, ok, tt.works)
		}
	}
	if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("relay"), AccessKeyId: aws.String(id), Status: "Paused"}); apiCode(err) != "ValidationError" {
		t.Errorf("UpdateAccessKey Paused = %v, want ValidationError", err)
	}
	if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("relay"), AccessKeyId: aws.String("AKIANOSUCHKEY0000000"), Status: iamtypes.StatusTypeInactive}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("UpdateAccessKey of an unknown key = %v, want NoSuchEntity", err)
	}

	if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("relay"), AccessKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if keys := sim.AccessKeys("relay"); len(keys) != 0 {
		t.Errorf("AccessKeys after delete = %v", keys)
	}
	if _, ok := sim.SecretForKey(id); ok {
		t.Error("a deleted key still authenticates")
	}
}

func TestSTSCallerIdentity(t *testing.T) {
	tests := []struct {
		name, account, arn string
	}{
		{"default account", "", "arn:aws:iam::123456789012:user/operator"},
		{"--account-id", "210987654321", "arn:aws:iam::210987654321:user/operator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := New(Options{AccountID: tt.account})
			out, err := stsClient(endpoint(t, sim)).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.Account) != sim.AccountID() || aws.ToString(out.Arn) != tt.arn || aws.ToString(out.UserId) == "" {
				t.Errorf("GetCallerIdentity = %s %s %s, want %s %s", aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId), sim.AccountID(), tt.arn)
			}
		})
	}
}

// DeleteUser is refused with DeleteConflict (409) while the user has
// access keys or inline policies, as IAM refuses it; DeleteUserPolicy
// and DeleteAccessKey clear the way, and a second DeleteUser is
// NoSuchEntity.
func TestIAMDeleteUser(t *testing.T) {
	ctx := context.Background()
	c := iamClient(endpoint(t, New(Options{})))
	user := aws.String("ses-smtp-example-com")
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: user}); err != nil {
		t.Fatal(err)
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: user})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: user, PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name     string
		call     func() error
		wantCode string
		wantMsg  string
	}{
		{"with a key", func() error { _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: user}); return err }, "DeleteConflict", "must delete access keys first"},
		{"delete the key", func() error {
			_, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: user, AccessKeyId: key.AccessKey.AccessKeyId})
			return err
		}, "", ""},
		{"with a policy", func() error { _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: user}); return err }, "DeleteConflict", "must delete policies first"},
		{"a policy that is not there", func() error {
			_, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: user, PolicyName: aws.String("other")})
			return err
		}, "NoSuchEntity", "other"},
		{"delete the policy", func() error {
			_, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: user, PolicyName: aws.String("p")})
			return err
		}, "", ""},
		{"empty: deleted", func() error { _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: user}); return err }, "", ""},
		{"again: gone", func() error { _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: user}); return err }, "NoSuchEntity", "cannot be found"},
	}
	for _, s := range steps {
		err := s.call()
		if got := apiCode(err); got != s.wantCode || !strings.Contains(apiMessage(err), s.wantMsg) {
			t.Errorf("%s: %v (code %q), want %q with %q", s.name, err, got, s.wantCode, s.wantMsg)
		}
	}
	var dc *iamtypes.DeleteConflictException
	_, _ = c.CreateUser(ctx, &iam.CreateUserInput{UserName: user})
	_, _ = c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: user})
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: user}); !errors.As(err, &dc) {
		t.Errorf("DeleteUser with a key: %v is not the SDK's DeleteConflictException", err)
	}
}
