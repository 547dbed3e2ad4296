package stepstest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// maxKeysPerUser is IAM's hard limit of access keys per user.
const maxKeysPerUser = 2

// FakeIAM is a stateful in-memory IAM that keeps the semantics the
// smtp-user step relies on: user names are unique case-insensitively, a
// user has at most two access keys (LimitExceeded on a third), a secret
// access key is returned only by CreateAccessKey, GetUserPolicy returns the
// document URL-encoded (RFC 3986) as IAM does, and missing things are
// *iamtypes.NoSuchEntityException. It satisfies awsapi.IAM. Safe for
// concurrent use.
type FakeIAM struct {
	mu      sync.Mutex
	log     callLog
	account string
	users   map[string]*fakeUser // by lower-case name
	keys    map[string]*fakeKey  // by access key id
	seq     int

	// Now is the clock for CreateDate; tests set it to control key ages.
	Now func() time.Time
	// Before, when set, runs (without the fake's lock) after a call of op
	// is counted and before it takes effect: a test uses it to act as a
	// concurrent writer, for example creating the user that CreateUser is
	// about to create.
	Before func(f *FakeIAM, op string)

	// dropped holds, per operation, errors to return after the call took
	// effect (DropAnswer).
	dropped map[string][]error
}

type fakeUser struct {
	name     string
	id       string
	created  time.Time
	tags     map[string]string
	policies map[string]string
	keys     []string // access key ids, in creation order
	// simulated is what SimulatePrincipalPolicy answers for the user
	// (SetSimulation); "" when no test set it.
	simulated iamtypes.PolicyEvaluationDecisionType
}

type fakeKey struct {
	id, secret, user string
	status           iamtypes.StatusType
	created          time.Time
	lastUsed         *time.Time
	lastRegion       string
	lastService      string
}

// iamMutations are the operations that change an account.
var iamMutations = []string{"CreateUser", "TagUser", "PutUserPolicy", "CreateAccessKey", "DeleteAccessKey", "UpdateAccessKey", "DeleteUserPolicy", "DeleteUser"}

// NewFakeIAM returns an account with no users.
func NewFakeIAM(account string) *FakeIAM {
	return &FakeIAM{
		log:     newCallLog(),
		account: account,
		users:   map[string]*fakeUser{},
		keys:    map[string]*fakeKey{},
		Now:     time.Now,
	}
}

// Calls returns how many times op ("CreateAccessKey") was called.
func (f *FakeIAM) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.log.calls[op]
}

// Mutations returns how many calls could have changed the account.
func (f *FakeIAM) Mutations() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.log.sum(iamMutations...)
}

// FailNext makes the next call of op return err (queued: several calls
// fail in order). The call is counted but has no effect.
func (f *FakeIAM) FailNext(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log.failNext(op, err)
}

// DropAnswer makes the next call of op take effect and then return err
// instead of its answer, as when the connection drops after AWS acted
// (queued). Supported for CreateUser and CreateAccessKey.
func (f *FakeIAM) DropAnswer(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dropped == nil {
		f.dropped = map[string][]error{}
	}
	f.dropped[op] = append(f.dropped[op], err)
}

// lostAnswer pops the error DropAnswer queued for op, with f.mu held.
func (f *FakeIAM) lostAnswer(op string) error {
	q := f.dropped[op]
	if len(q) == 0 {
		return nil
	}
	f.dropped[op] = q[1:]
	return q[0]
}

// enter counts a call, runs Before and returns an injected error. It takes
// and leaves f.mu locked on return.
func (f *FakeIAM) enter(op string) error {
	f.mu.Lock()
	err := f.log.enter(op)
	hook := f.Before
	if err == nil && hook != nil {
		f.mu.Unlock()
		hook(f, op)
		f.mu.Lock()
	}
	return err
}

// UserARN is the ARN of a user in this account.
func (f *FakeIAM) UserARN(name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:user/%s", f.account, name)
}

func noSuchUser(name string) error {
	return &iamtypes.NoSuchEntityException{Message: aws.String(fmt.Sprintf("The user with name %s cannot be found.", name))}
}

func (f *FakeIAM) user(name *string) (*fakeUser, error) {
	n := aws.ToString(name)
	if n == "" {
		return nil, &iamtypes.InvalidInputException{Message: aws.String("UserName is required")}
	}
	u := f.users[strings.ToLower(n)]
	if u == nil {
		return nil, noSuchUser(n)
	}
	return u, nil
}

// enterUser is enter, then the user named: every call on one user starts
// so. The caller unlocks f.mu, whatever the error.
func (f *FakeIAM) enterUser(op string, name *string) (*fakeUser, error) {
	if err := f.enter(op); err != nil {
		return nil, err
	}
	return f.user(name)
}

func (f *FakeIAM) addUser(name string, tags map[string]string) *fakeUser {
	f.seq++
	u := &fakeUser{
		name: name, id: fmt.Sprintf("AIDAFAKE%012d", f.seq), created: f.Now().UTC(),
		tags: map[string]string{}, policies: map[string]string{},
	}
	for k, v := range tags {
		u.tags[k] = v
	}
	f.users[strings.ToLower(name)] = u
	return u
}

func (u *fakeUser) out(arn string) *iamtypes.User {
	var tags []iamtypes.Tag
	for _, k := range slices.Sorted(maps.Keys(u.tags)) {
		tags = append(tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(u.tags[k])})
	}
	return &iamtypes.User{
		UserName: aws.String(u.name), UserId: aws.String(u.id), Arn: aws.String(arn),
		Path: aws.String("/"), CreateDate: aws.Time(u.created), Tags: tags,
	}
}

// AddUser creates a user directly, as an operator's earlier work would,
// bypassing the counters. tags may be nil.
func (f *FakeIAM) AddUser(name string, tags map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addUser(name, tags)
}

// AddAccessKey gives user a key created at created, bypassing the counters
// and the two-key limit, and returns its id and secret.
func (f *FakeIAM) AddAccessKey(user string, created time.Time) (id, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users[strings.ToLower(user)]
	if u == nil {
		panic("stepstest: AddAccessKey for unknown user " + user)
	}
	k := f.newKey(u, created)
	return k.id, k.secret
}

func (f *FakeIAM) newKey(u *fakeUser, created time.Time) *fakeKey {
	f.seq++
	k := &fakeKey{
		id:     fmt.Sprintf("AKIAFAKE%012d", f.seq),
		secret: randomSecret(),
		user:   u.name, status: iamtypes.StatusTypeActive, created: created.UTC(),
	}
	f.keys[k.id] = k
	u.keys = append(u.keys, k.id)
	return k
}

// randomSecret makes a 40-character secret like IAM's, random so that a
// test scanning files for it cannot match by accident.
func randomSecret() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, 40)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// SetKeyLastUsed records that a key was last used at t in region.
func (f *FakeIAM) SetKeyLastUsed(id string, t time.Time, region string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k := f.keys[id]; k != nil {
		k.lastUsed, k.lastRegion, k.lastService = aws.Time(t.UTC()), region, "ses"
	}
}

// SetKeyStatus makes a key Active or Inactive.
func (f *FakeIAM) SetKeyStatus(id string, status iamtypes.StatusType) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k := f.keys[id]; k != nil {
		k.status = status
	}
}

// HasUser reports whether the user exists.
func (f *FakeIAM) HasUser(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.users[strings.ToLower(name)] != nil
}

// Tags returns a user's tags (nil when there is no such user).
func (f *FakeIAM) Tags(user string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users[strings.ToLower(user)]
	if u == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range u.tags {
		out[k] = v
	}
	return out
}

// Keys returns a user's access key ids in creation order.
func (f *FakeIAM) Keys(user string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.users[strings.ToLower(user)]; u != nil {
		return slices.Clone(u.keys)
	}
	return nil
}

// Secret returns the secret access key of a key id ("" if unknown), so a
// test can check that it was never written anywhere.
func (f *FakeIAM) Secret(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k := f.keys[id]; k != nil {
		return k.secret
	}
	return ""
}

// Secrets returns every secret access key the fake ever issued, including
// those of deleted keys.
func (f *FakeIAM) Secrets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, id := range slices.Sorted(maps.Keys(f.keys)) {
		out = append(out, f.keys[id].secret)
	}
	return out
}

// Policy returns a user's inline policy document as it was put (not
// URL-encoded), or "" when there is none.
func (f *FakeIAM) Policy(user, name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.users[strings.ToLower(user)]; u != nil {
		return u.policies[name]
	}
	return ""
}

// SetPolicy puts an inline policy directly, bypassing the counters.
func (f *FakeIAM) SetPolicy(user, name, doc string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.users[strings.ToLower(user)]; u != nil {
		u.policies[name] = doc
	}
}

// GetUser returns a user or NoSuchEntity.
func (f *FakeIAM) GetUser(_ context.Context, in *iam.GetUserInput, _ ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	u, err := f.enterUser("GetUser", in.UserName)
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &iam.GetUserOutput{User: u.out(f.UserARN(u.name))}, nil
}

// CreateUser creates a user; an existing name (in any case) is
// EntityAlreadyExists.
func (f *FakeIAM) CreateUser(_ context.Context, in *iam.CreateUserInput, _ ...func(*iam.Options)) (*iam.CreateUserOutput, error) {
	err := f.enter("CreateUser")
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.UserName)
	if name == "" {
		return nil, &iamtypes.InvalidInputException{Message: aws.String("UserName is required")}
	}
	if f.users[strings.ToLower(name)] != nil {
		return nil, &iamtypes.EntityAlreadyExistsException{Message: aws.String(fmt.Sprintf("User with name %s already exists.", name))}
	}
	tags := map[string]string{}
	for _, t := range in.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	u := f.addUser(name, tags)
	if err := f.lostAnswer("CreateUser"); err != nil {
		return nil, err
	}
	return &iam.CreateUserOutput{User: u.out(f.UserARN(name))}, nil
}

// TagUser adds or replaces tags on a user.
func (f *FakeIAM) TagUser(_ context.Context, in *iam.TagUserInput, _ ...func(*iam.Options)) (*iam.TagUserOutput, error) {
	u, err := f.enterUser("TagUser", in.UserName)
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		u.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return &iam.TagUserOutput{}, nil
}

// PutUserPolicy stores an inline policy; a document that is not JSON is
// MalformedPolicyDocument.
func (f *FakeIAM) PutUserPolicy(_ context.Context, in *iam.PutUserPolicyInput, _ ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error) {
	u, err := f.enterUser("PutUserPolicy", in.UserName)
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	doc := aws.ToString(in.PolicyDocument)
	if !json.Valid([]byte(doc)) {
		return nil, &iamtypes.MalformedPolicyDocumentException{Message: aws.String("Syntax errors in policy.")}
	}
	u.policies[aws.ToString(in.PolicyName)] = doc
	return &iam.PutUserPolicyOutput{}, nil
}

// GetUserPolicy returns an inline policy, URL-encoded as IAM returns it.
func (f *FakeIAM) GetUserPolicy(_ context.Context, in *iam.GetUserPolicyInput, _ ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error) {
	u, err := f.enterUser("GetUserPolicy", in.UserName)
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.PolicyName)
	doc, ok := u.policies[name]
	if !ok {
		return nil, &iamtypes.NoSuchEntityException{Message: aws.String(fmt.Sprintf("The user policy with name %s cannot be found.", name))}
	}
	return &iam.GetUserPolicyOutput{UserName: aws.String(u.name), PolicyName: aws.String(name), PolicyDocument: aws.String(rfc3986Escape(doc))}, nil
}

// rfc3986Escape percent-encodes everything but the unreserved characters,
// as IAM encodes policy documents (a "+" becomes %2B, a space %20).
func rfc3986Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// ListAccessKeys lists a user's keys (no secrets), in creation order.
func (f *FakeIAM) ListAccessKeys(_ context.Context, in *iam.ListAccessKeysInput, _ ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	u, err := f.enterUser("ListAccessKeys", in.UserName)
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := &iam.ListAccessKeysOutput{AccessKeyMetadata: []iamtypes.AccessKeyMetadata{}}
	for _, id := range u.keys {
		k := f.keys[id]
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, iamtypes.AccessKeyMetadata{
			AccessKeyId: aws.String(k.id), UserName: aws.String(u.name), Status: k.status, CreateDate: aws.Time(k.created),
		})
	}
	return out, nil
}

// CreateAccessKey makes a key and returns its secret, the only time the
// secret is ever returned; a third key is LimitExceeded.
func (f *FakeIAM) CreateAccessKey(_ context.Context, in *iam.CreateAccessKeyInput, _ ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error) {
	u, err := f.enterUser("CreateAccessKey", in.UserName)
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if len(u.keys) >= maxKeysPerUser {
		return nil, &iamtypes.LimitExceededException{Message: aws.String(fmt.Sprintf("Cannot exceed quota for AccessKeysPerUser: %d", maxKeysPerUser))}
	}
	k := f.newKey(u, f.Now())
	if err := f.lostAnswer("CreateAccessKey"); err != nil {
		return nil, err
	}
	return &iam.CreateAccessKeyOutput{AccessKey: &iamtypes.AccessKey{
		AccessKeyId: aws.String(k.id), SecretAccessKey: aws.String(k.secret), Status: k.status,
		UserName: aws.String(u.name), CreateDate: aws.Time(k.created),
	}}, nil
}

// DeleteAccessKey deletes one of a user's keys.
func (f *FakeIAM) DeleteAccessKey(_ context.Context, in *iam.DeleteAccessKeyInput, _ ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error) {
	u, err := f.enterUser("DeleteAccessKey", in.UserName)
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	id := aws.ToString(in.AccessKeyId)
	i := slices.Index(u.keys, id)
	if i < 0 {
		return nil, &iamtypes.NoSuchEntityException{Message: aws.String(fmt.Sprintf("The Access Key with id %s cannot be found.", id))}
	}
	u.keys = slices.Delete(u.keys, i, i+1)
	f.keys[id].user = "" // keep the secret for Secrets(), detach the key
	return &iam.DeleteAccessKeyOutput{}, nil
}

// UpdateAccessKey makes one of a user's keys Active or Inactive; an
// unknown key is NoSuchEntity and a status other than those two is
// ValidationError-like InvalidInput, as IAM answers.
func (f *FakeIAM) UpdateAccessKey(_ context.Context, in *iam.UpdateAccessKeyInput, _ ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error) {
	u, err := f.enterUser("UpdateAccessKey", in.UserName)
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	id := aws.ToString(in.AccessKeyId)
	if !slices.Contains(u.keys, id) {
		return nil, &iamtypes.NoSuchEntityException{Message: aws.String(fmt.Sprintf("The Access Key with id %s cannot be found.", id))}
	}
	switch in.Status {
	case iamtypes.StatusTypeActive, iamtypes.StatusTypeInactive:
	default:
		return nil, &iamtypes.InvalidInputException{Message: aws.String(fmt.Sprintf("Status %q is not Active or Inactive.", in.Status))}
	}
	f.keys[id].status = in.Status
	if err := f.lostAnswer("UpdateAccessKey"); err != nil {
		return nil, err
	}
	return &iam.UpdateAccessKeyOutput{}, nil
}

// GetAccessKeyLastUsed says when and where a key was last used; a key
// never used has no date and "N/A" region and service, as IAM answers.
func (f *FakeIAM) GetAccessKeyLastUsed(_ context.Context, in *iam.GetAccessKeyLastUsedInput, _ ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	err := f.enter("GetAccessKeyLastUsed")
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	id := aws.ToString(in.AccessKeyId)
	k := f.keys[id]
	if k == nil || k.user == "" {
		return nil, &iamtypes.NoSuchEntityException{Message: aws.String(fmt.Sprintf("The Access Key with id %s cannot be found.", id))}
	}
	last := &iamtypes.AccessKeyLastUsed{Region: aws.String("N/A"), ServiceName: aws.String("N/A")}
	if k.lastUsed != nil {
		last = &iamtypes.AccessKeyLastUsed{LastUsedDate: k.lastUsed, Region: aws.String(k.lastRegion), ServiceName: aws.String(k.lastService)}
	}
	return &iam.GetAccessKeyLastUsedOutput{UserName: aws.String(k.user), AccessKeyLastUsed: last}, nil
}

// ListUserPolicies lists a user's inline policy names, sorted.
func (f *FakeIAM) ListUserPolicies(_ context.Context, in *iam.ListUserPoliciesInput, _ ...func(*iam.Options)) (*iam.ListUserPoliciesOutput, error) {
	u, err := f.enterUser("ListUserPolicies", in.UserName)
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &iam.ListUserPoliciesOutput{PolicyNames: slices.Sorted(maps.Keys(u.policies))}, nil
}

// DeleteUserPolicy deletes one of a user's inline policies.
func (f *FakeIAM) DeleteUserPolicy(_ context.Context, in *iam.DeleteUserPolicyInput, _ ...func(*iam.Options)) (*iam.DeleteUserPolicyOutput, error) {
	u, err := f.enterUser("DeleteUserPolicy", in.UserName)
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.PolicyName)
	if _, ok := u.policies[name]; !ok {
		return nil, &iamtypes.NoSuchEntityException{Message: aws.String(fmt.Sprintf("The user policy with name %s cannot be found.", name))}
	}
	delete(u.policies, name)
	return &iam.DeleteUserPolicyOutput{}, nil
}

// DeleteUser deletes a user; like IAM it refuses with DeleteConflict while
// the user still has access keys or inline policies.
func (f *FakeIAM) DeleteUser(_ context.Context, in *iam.DeleteUserInput, _ ...func(*iam.Options)) (*iam.DeleteUserOutput, error) {
	u, err := f.enterUser("DeleteUser", in.UserName)
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	switch {
	case len(u.keys) > 0:
		return nil, &iamtypes.DeleteConflictException{Message: aws.String("Cannot delete entity, must delete access keys first.")}
	case len(u.policies) > 0:
		return nil, &iamtypes.DeleteConflictException{Message: aws.String("Cannot delete entity, must delete policies first.")}
	}
	delete(f.users, strings.ToLower(u.name))
	return &iam.DeleteUserOutput{}, nil
}

// SetSimulation sets the decision SimulatePrincipalPolicy answers for
// every action and resource of user. FakeIAM does not evaluate policies
// (the simulator in steps/awssim does, as IAM does): a test that needs the
// call says what IAM decides.
func (f *FakeIAM) SetSimulation(user string, decision iamtypes.PolicyEvaluationDecisionType) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.users[strings.ToLower(user)]; u != nil {
		u.simulated = decision
	}
}

// SimulatePrincipalPolicy answers the decision SetSimulation set for the
// user PolicySourceArn names, in IAM's shape: one result per action, one
// resource-specific result per resource (default "*"). An unknown ARN is
// NoSuchEntity; a user without a decision set is an error naming
// SetSimulation, never an invented answer.
func (f *FakeIAM) SimulatePrincipalPolicy(_ context.Context, in *iam.SimulatePrincipalPolicyInput, _ ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error) {
	err := f.enter("SimulatePrincipalPolicy")
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	arn := aws.ToString(in.PolicySourceArn)
	var u *fakeUser
	for _, x := range f.users {
		if strings.EqualFold(f.UserARN(x.name), arn) {
			u = x
		}
	}
	if u == nil {
		return nil, noSuchUser(arn[strings.LastIndex(arn, "/")+1:])
	}
	if u.simulated == "" {
		return nil, fmt.Errorf("stepstest: FakeIAM has no simulated decision for %s: call SetSimulation", u.name)
	}
	resources := in.ResourceArns
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	out := &iam.SimulatePrincipalPolicyOutput{}
	for _, action := range in.ActionNames {
		r := iamtypes.EvaluationResult{EvalActionName: aws.String(action), EvalResourceName: aws.String("*"), EvalDecision: u.simulated}
		for _, res := range resources {
			r.ResourceSpecificResults = append(r.ResourceSpecificResults, iamtypes.ResourceSpecificResult{EvalResourceName: aws.String(res), EvalResourceDecision: u.simulated})
		}
		out.EvaluationResults = append(out.EvaluationResults, r)
	}
	return out, nil
}
