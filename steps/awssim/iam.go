package awssim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-tool/sesame/steps/ses"
)

// IAM over awsQuery: the user, inline policy and access key operations
// sesame uses, with AWS's error codes and messages.

func init() { routers["iam"] = iamRoute }

// maxKeysPerUser is IAM's hard quota of access keys per user.
const maxKeysPerUser = 2

var iamNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

func iamRoute(s *Sim, r *request) (string, func() (reply, *apiError)) {
	op := first(r.Form["Action"])
	handlers := map[string]func(*Sim, *request) (reply, *apiError){
		"GetUser":              (*Sim).iamGetUser,
		"CreateUser":           (*Sim).iamCreateUser,
		"TagUser":              (*Sim).iamTagUser,
		"PutUserPolicy":        (*Sim).iamPutUserPolicy,
		"GetUserPolicy":        (*Sim).iamGetUserPolicy,
		"ListUserPolicies":     (*Sim).iamListUserPolicies,
		"ListUsers":            (*Sim).iamListUsers,
		"ListAccessKeys":       (*Sim).iamListAccessKeys,
		"CreateAccessKey":      (*Sim).iamCreateAccessKey,
		"DeleteAccessKey":      (*Sim).iamDeleteAccessKey,
		"UpdateAccessKey":      (*Sim).iamUpdateAccessKey,
		"GetAccessKeyLastUsed": (*Sim).iamGetAccessKeyLastUsed,
		"DeleteUserPolicy":     (*Sim).iamDeleteUserPolicy,
		"DeleteUser":           (*Sim).iamDeleteUser,
		// iam_simulate.go
		"SimulatePrincipalPolicy": (*Sim).iamSimulatePrincipalPolicy,
	}
	h := handlers[op]
	if h == nil {
		return op, nil
	}
	return op, func() (reply, *apiError) { return h(s, r) }
}

// The XML shapes of IAM's answers.
type (
	xmlTag struct {
		Key   string `xml:"Key"`
		Value string `xml:"Value"`
	}
	xmlUser struct {
		Path       string   `xml:"Path"`
		UserName   string   `xml:"UserName"`
		UserID     string   `xml:"UserId"`
		Arn        string   `xml:"Arn"`
		CreateDate string   `xml:"CreateDate"`
		Tags       []xmlTag `xml:"Tags>member,omitempty"`
	}
	xmlAccessKey struct {
		UserName        string `xml:"UserName"`
		AccessKeyID     string `xml:"AccessKeyId"`
		Status          string `xml:"Status"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		CreateDate      string `xml:"CreateDate"`
	}
	xmlKeyMeta struct {
		UserName    string `xml:"UserName"`
		AccessKeyID string `xml:"AccessKeyId"`
		Status      string `xml:"Status"`
		CreateDate  string `xml:"CreateDate"`
	}
)

func (u *iamUser) xml(withTags bool) xmlUser {
	x := xmlUser{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.ARN, CreateDate: awsTime(u.Created)}
	if withTags {
		for _, t := range u.Tags {
			x.Tags = append(x.Tags, xmlTag(t))
		}
	}
	return x
}

// propagating answers NoSuchEntity for a user created less than
// Options.IAMPropagation ago: IAM is eventually consistent, and a call
// right after CreateUser can reach a part of IAM that does not know the
// user yet (IAM User Guide, "Troubleshoot IAM": "Changes that I make are
// not always immediately visible"). Called with s.mu held.
func (s *Sim) propagating(u *iamUser) *apiError {
	if u == nil || s.opts.IAMPropagation <= 0 || s.opts.Now().Sub(u.Created) >= s.opts.IAMPropagation {
		return nil
	}
	return noSuchUser(u.Name)
}

func noSuchUser(name string) *apiError {
	return errf(404, "NoSuchEntity", "The user with name %s cannot be found.", name)
}

func iamValidation(field, value, constraint string) *apiError {
	return errf(400, "ValidationError", "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, field, constraint)
}

// userArg reads and validates the UserName parameter.
func userArg(r *request) (string, *apiError) {
	name := first(r.Form["UserName"])
	if !iamNameRE.MatchString(name) {
		return "", iamValidation("userName", name, `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	return name, nil
}

// user finds a user by name, case-insensitively as IAM does.
func (s *Sim) user(name string) *iamUser { return s.iam.users[strings.ToLower(name)] }

// userFromArg is the existing user the request's UserName names, or the
// error IAM answers: ValidationError for a bad name, NoSuchEntity.
func (s *Sim) userFromArg(r *request) (*iamUser, *apiError) {
	name, ae := userArg(r)
	if ae != nil {
		return nil, ae
	}
	u := s.user(name)
	if u == nil {
		return nil, noSuchUser(name)
	}
	return u, nil
}

// callerUser is the user a request is signed as: the owner of the access
// key, or the account's operator (a key the Sim did not issue).
func (s *Sim) callerUser(r *request) *iamUser {
	if u := s.iam.keyOwner(r.AccessKey); u != "" {
		return s.user(u)
	}
	return &iamUser{
		Name: "operator", Path: "/", ID: "AIDA" + strings.Repeat("O", 17),
		ARN:     "arn:" + ses.PartitionOfRegion(r.Region) + strings.TrimPrefix(s.callerARN(r.AccessKey), "arn:aws"),
		Created: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func (s *Sim) iamGetUser(r *request) (reply, *apiError) {
	u := s.callerUser(r)
	if name := first(r.Form["UserName"]); name != "" {
		if u = s.user(name); u == nil {
			return reply{}, noSuchUser(name)
		}
	}
	return queryReply(iamNS, "GetUser", struct {
		User xmlUser `xml:"User"`
	}{u.xml(true)})
}

func (s *Sim) iamCreateUser(r *request) (reply, *apiError) {
	name, ae := userArg(r)
	if ae != nil {
		return reply{}, ae
	}
	path := first(r.Form["Path"])
	if path == "" {
		path = "/"
	}
	tags, ae := formTags(r.Form)
	if ae != nil {
		return reply{}, ae
	}
	u, ae := s.createUser(name, path, tags)
	if ae != nil {
		return reply{}, ae
	}
	// The user's ARN is in the partition of the request's region
	// (arn:aws-us-gov:iam::… in GovCloud).
	u.ARN = "arn:" + ses.PartitionOfRegion(r.Region) + strings.TrimPrefix(u.ARN, "arn:aws")
	return queryReply(iamNS, "CreateUser", struct {
		User xmlUser `xml:"User"`
	}{u.xml(true)})
}

// createUser adds a user; names are unique case-insensitively.
func (s *Sim) createUser(name, path string, tags []tag) (*iamUser, *apiError) {
	if s.user(name) != nil {
		return nil, errf(409, "EntityAlreadyExists", "User with name %s already exists.", name)
	}
	u := &iamUser{
		Name: name, Path: path, ID: "AIDA" + randString(upperAlnum, 17),
		ARN:      fmt.Sprintf("arn:aws:iam::%s:user%s%s", s.opts.AccountID, path, name),
		Created:  s.opts.Now().UTC(),
		Policies: map[string]string{},
	}
	u.Tags = mergeTags(nil, tags)
	s.iam.users[strings.ToLower(name)] = u
	return u, nil
}

// formTags reads Tags.member.N.{Key,Value}.
func formTags(form map[string][]string) ([]tag, *apiError) {
	var tags []tag
	for _, m := range formList(form, "Tags.member") {
		if m["Key"] == "" {
			return nil, iamValidation("tags.member.key", "", "Member must have length greater than or equal to 1")
		}
		tags = append(tags, tag{Key: m["Key"], Value: m["Value"]})
	}
	if len(tags) > 50 {
		return nil, errf(409, "LimitExceeded", "Cannot exceed quota for TagsPerUser: 50")
	}
	return tags, nil
}

// mergeTags sets each tag of add on have, replacing a tag of the same key.
func mergeTags(have, add []tag) []tag {
	out := append([]tag(nil), have...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value, replaced = t.Value, true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}

func (s *Sim) iamTagUser(r *request) (reply, *apiError) {
	u, ae := s.userFromArg(r)
	if ae != nil {
		return reply{}, ae
	}
	tags, ae := formTags(r.Form)
	if ae != nil {
		return reply{}, ae
	}
	if merged := mergeTags(u.Tags, tags); len(merged) > 50 {
		return reply{}, errf(409, "LimitExceeded", "Cannot exceed quota for TagsPerUser: 50")
	}
	u.Tags = mergeTags(u.Tags, tags)
	return queryReply(iamNS, "TagUser", nil)
}

// checkPolicy accepts what IAM's parser accepts at the level sesame needs:
// a JSON object with a Statement whose resource ARNs are in the partition
// IAM serves (IAM User Guide, "IAM identifiers", "IAM ARNs": the partition
// is aws, aws-cn or aws-us-gov; IAM in GovCloud refuses an arn:aws: resource
// with MalformedPolicyDocument).
func checkPolicy(doc, partition string) *apiError {
	var p map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return errf(400, "MalformedPolicyDocument", "Syntax errors in policy.")
	}
	raw, ok := p["Statement"]
	if !ok {
		return errf(400, "MalformedPolicyDocument", "Missing required field Statement")
	}
	var stmts []policyStatement
	if json.Unmarshal(raw, &stmts) != nil {
		var one policyStatement
		if json.Unmarshal(raw, &one) != nil {
			return errf(400, "MalformedPolicyDocument", "Syntax errors in policy.")
		}
		stmts = []policyStatement{one}
	}
	for _, st := range stmts {
		for _, res := range append(slices.Clone(st.Resource), st.NotResource...) {
			if p := ses.PartitionOfARN(res); p != "" && p != partition {
				return errf(400, "MalformedPolicyDocument", "Partition \"%s\" is not valid for resource \"%s\".", p, res)
			}
		}
	}
	return nil
}

func (s *Sim) iamPutUserPolicy(r *request) (reply, *apiError) {
	name, ae := userArg(r)
	if ae != nil {
		return reply{}, ae
	}
	policy := first(r.Form["PolicyName"])
	if !iamNameRE.MatchString(policy) {
		return reply{}, iamValidation("policyName", policy, `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	doc := first(r.Form["PolicyDocument"])
	if ae := checkPolicy(doc, ses.PartitionOfRegion(r.Region)); ae != nil {
		return reply{}, ae
	}
	u := s.user(name)
	if u == nil {
		return reply{}, noSuchUser(name)
	}
	if ae := s.propagating(u); ae != nil {
		return reply{}, ae
	}
	u.Policies[policy] = doc
	return queryReply(iamNS, "PutUserPolicy", nil)
}

func (s *Sim) iamGetUserPolicy(r *request) (reply, *apiError) {
	u, ae := s.userFromArg(r)
	if ae != nil {
		return reply{}, ae
	}
	policy := first(r.Form["PolicyName"])
	doc, ok := u.Policies[policy]
	if !ok {
		return reply{}, errf(404, "NoSuchEntity", "The user policy with name %s cannot be found.", policy)
	}
	return queryReply(iamNS, "GetUserPolicy", struct {
		UserName       string `xml:"UserName"`
		PolicyName     string `xml:"PolicyName"`
		PolicyDocument string `xml:"PolicyDocument"`
	}{u.Name, policy, rfc3986Escape(doc)})
}

// rfc3986Escape percent-encodes everything but RFC 3986's unreserved
// characters, as IAM encodes policy documents in its answers.
func rfc3986Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// iamMaxItems reads an IAM list call's MaxItems: default 100, 1 to 1000.
func iamMaxItems(r *request) (int, *apiError) {
	v := first(r.Form["MaxItems"])
	if v == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, iamValidation("maxItems", v, "Member must have value between 1 and 1000")
	}
	return n, nil
}

// page cuts a sorted list of names at an opaque Marker (the first name of
// the page) and MaxItems (default 100, at most 1000).
func page(names []string, r *request) (out []string, next string, ae *apiError) {
	max, ae := iamMaxItems(r)
	if ae != nil {
		return nil, "", ae
	}
	start := 0
	if m := first(r.Form["Marker"]); m != "" {
		start = sort.SearchStrings(names, m)
	}
	names = names[start:]
	if len(names) > max {
		return names[:max], names[max], nil
	}
	return names, "", nil
}

func (s *Sim) iamListUserPolicies(r *request) (reply, *apiError) {
	u, ae := s.userFromArg(r)
	if ae != nil {
		return reply{}, ae
	}
	names := make([]string, 0, len(u.Policies))
	for p := range u.Policies {
		names = append(names, p)
	}
	sort.Strings(names)
	names, next, ae := page(names, r)
	if ae != nil {
		return reply{}, ae
	}
	return queryReply(iamNS, "ListUserPolicies", struct {
		PolicyNames []string `xml:"PolicyNames>member"`
		IsTruncated bool     `xml:"IsTruncated"`
		Marker      string   `xml:"Marker,omitempty"`
	}{names, next != "", next})
}

func (s *Sim) iamDeleteUserPolicy(r *request) (reply, *apiError) {
	u, ae := s.userFromArg(r)
	if ae != nil {
		return reply{}, ae
	}
	policy := first(r.Form["PolicyName"])
	if _, ok := u.Policies[policy]; !ok {
		return reply{}, errf(404, "NoSuchEntity", "The user policy with name %s cannot be found.", policy)
	}
	delete(u.Policies, policy)
	return queryReply(iamNS, "DeleteUserPolicy", nil)
}

// iamDeleteUser deletes a user the way IAM does: refused with
// DeleteConflict while it still has access keys or inline policies.
func (s *Sim) iamDeleteUser(r *request) (reply, *apiError) {
	u, ae := s.userFromArg(r)
	if ae != nil {
		return reply{}, ae
	}
	switch {
	case len(u.Keys) > 0:
		return reply{}, errf(409, "DeleteConflict", "Cannot delete entity, must delete access keys first.")
	case len(u.Policies) > 0:
		return reply{}, errf(409, "DeleteConflict", "Cannot delete entity, must delete policies first.")
	}
	delete(s.iam.users, strings.ToLower(u.Name))
	return queryReply(iamNS, "DeleteUser", nil)
}

func (s *Sim) iamListUsers(r *request) (reply, *apiError) {
	prefix := first(r.Form["PathPrefix"])
	var keys []string
	for k, u := range s.iam.users {
		if strings.HasPrefix(u.Path, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	keys, next, ae := page(keys, r)
	if ae != nil {
		return reply{}, ae
	}
	// ListUsers does not return tags, as in AWS.
	users := make([]xmlUser, 0, len(keys))
	for _, k := range keys {
		users = append(users, s.iam.users[k].xml(false))
	}
	return queryReply(iamNS, "ListUsers", struct {
		Users       []xmlUser `xml:"Users>member"`
		IsTruncated bool      `xml:"IsTruncated"`
		Marker      string    `xml:"Marker,omitempty"`
	}{users, next != "", next})
}

// keyUser finds the user an access key operation is about: UserName, or
// the caller when it is absent.
func (s *Sim) keyUser(r *request) (*iamUser, *apiError) {
	name := first(r.Form["UserName"])
	if name == "" {
		u := s.callerUser(r)
		if s.user(u.Name) == nil {
			// The operator's own keys are not simulated.
			return nil, noSuchUser(u.Name)
		}
		return u, nil
	}
	if !iamNameRE.MatchString(name) {
		return nil, iamValidation("userName", name, `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	u := s.user(name)
	if u == nil {
		return nil, noSuchUser(name)
	}
	return u, nil
}

func (s *Sim) iamListAccessKeys(r *request) (reply, *apiError) {
	u, ae := s.keyUser(r)
	if ae != nil {
		return reply{}, ae
	}
	ids := make([]string, 0, len(u.Keys))
	for _, k := range u.Keys {
		ids = append(ids, k.ID)
	}
	sort.Strings(ids)
	ids, next, ae := page(ids, r)
	if ae != nil {
		return reply{}, ae
	}
	meta := make([]xmlKeyMeta, 0, len(ids))
	for _, id := range ids {
		k := s.iam.keys[id]
		meta = append(meta, xmlKeyMeta{u.Name, k.ID, k.Status, awsTime(k.Created)})
	}
	return queryReply(iamNS, "ListAccessKeys", struct {
		AccessKeyMetadata []xmlKeyMeta `xml:"AccessKeyMetadata>member"`
		IsTruncated       bool         `xml:"IsTruncated"`
		Marker            string       `xml:"Marker,omitempty"`
	}{meta, next != "", next})
}

func (s *Sim) iamCreateAccessKey(r *request) (reply, *apiError) {
	u, ae := s.keyUser(r)
	if ae != nil {
		return reply{}, ae
	}
	if ae := s.propagating(u); ae != nil {
		return reply{}, ae
	}
	k, ae := s.addKey(u, "", "")
	if ae != nil {
		return reply{}, ae
	}
	return queryReply(iamNS, "CreateAccessKey", struct {
		AccessKey xmlAccessKey `xml:"AccessKey"`
	}{xmlAccessKey{u.Name, k.ID, k.Status, k.Secret, awsTime(k.Created)}})
}

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// addKey gives u a new active access key (id and secret generated when
// empty), enforcing the two-key quota.
func (s *Sim) addKey(u *iamUser, id, secret string) (*accessKey, *apiError) {
	if len(u.Keys) >= maxKeysPerUser {
		return nil, errf(409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: %d", maxKeysPerUser)
	}
	if id != "" && s.iam.keys[id] != nil {
		return nil, errf(409, "EntityAlreadyExists", "Access key %s already exists.", id)
	}
	for id == "" || s.iam.keys[id] != nil {
		id = "AKIA" + randString(upperAlnum, 16)
	}
	if secret == "" {
		secret = randString(secretAlphabet, 40)
	}
	k := &accessKey{ID: id, Secret: secret, Status: "Active", User: u.Name, Created: s.opts.Now().UTC()}
	u.Keys = append(u.Keys, k)
	s.iam.keys[id] = k
	return k, nil
}

func (s *Sim) iamDeleteAccessKey(r *request) (reply, *apiError) {
	u, ae := s.keyUser(r)
	if ae != nil {
		return reply{}, ae
	}
	id := first(r.Form["AccessKeyId"])
	for i, k := range u.Keys {
		if k.ID == id {
			u.Keys = append(u.Keys[:i:i], u.Keys[i+1:]...)
			delete(s.iam.keys, id)
			return queryReply(iamNS, "DeleteAccessKey", nil)
		}
	}
	return reply{}, errf(404, "NoSuchEntity", "The Access Key with id %s cannot be found.", id)
}

// iamUpdateAccessKey sets a key's Status to Active or Inactive. An
// inactive key still counts toward the two-key quota, signs nothing and
// fails SMTP AUTH (SecretForKey refuses it).
func (s *Sim) iamUpdateAccessKey(r *request) (reply, *apiError) {
	u, ae := s.keyUser(r)
	if ae != nil {
		return reply{}, ae
	}
	id := first(r.Form["AccessKeyId"])
	status := first(r.Form["Status"])
	if status != "Active" && status != "Inactive" {
		return reply{}, iamValidation("status", status, "Member must satisfy enum value set: [Active, Inactive]")
	}
	for _, k := range u.Keys {
		if k.ID == id {
			k.Status = status
			return queryReply(iamNS, "UpdateAccessKey", nil)
		}
	}
	return reply{}, errf(404, "NoSuchEntity", "The Access Key with id %s cannot be found.", id)
}

func (s *Sim) iamGetAccessKeyLastUsed(r *request) (reply, *apiError) {
	id := first(r.Form["AccessKeyId"])
	k := s.iam.keys[id]
	if k == nil {
		return reply{}, errf(404, "NoSuchEntity", "The Access Key with id %s cannot be found.", id)
	}
	type lastUsed struct {
		LastUsedDate string `xml:"LastUsedDate,omitempty"`
		ServiceName  string `xml:"ServiceName"`
		Region       string `xml:"Region"`
	}
	lu := lastUsed{ServiceName: "N/A", Region: "N/A"}
	if !k.LastUsed.IsZero() {
		lu = lastUsed{awsTime(k.LastUsed), k.LastUsedService, k.LastUsedRegion}
	}
	return queryReply(iamNS, "GetAccessKeyLastUsed", struct {
		UserName          string   `xml:"UserName"`
		AccessKeyLastUsed lastUsed `xml:"AccessKeyLastUsed"`
	}{k.User, lu})
}

// touchKey records that a request was signed with an access key the Sim
// issued, for GetAccessKeyLastUsed. Called with s.mu held.
func (s *Sim) touchKey(id, service, region string) {
	k := s.iam.keys[id]
	if k == nil {
		return
	}
	k.LastUsed = s.opts.Now().UTC()
	k.LastUsedService = map[string]string{"sesv2": "ses"}[service]
	if k.LastUsedService == "" {
		k.LastUsedService = service
	}
	k.LastUsedRegion = region
}
