package awssim

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/mail"
	"path"
	"slices"
	"strings"

	"github.com/sesame-tool/sesame/steps/ses"
)

// The SMTP user's IAM policy, evaluated on every SMTP send as SES does.
//
// Sources:
//   - Amazon SES Developer Guide, "Identity and access management in Amazon
//     SES", sections "Restricting the action" (the SMTP interface needs
//     ses:SendRawEmail; Resource names the identities the user may send
//     from) and "Restricting email addresses" (ses:Recipients,
//     ses:FromAddress, ses:FromDisplayName, ses:FeedbackAddress apply to
//     SendRawEmail).
//   - Amazon SES Developer Guide, "Troubleshooting SMTP": the reply is
//     "554 Access denied: User `<user ARN>' is not authorized to perform
//     `ses:SendRawEmail' on resource `<identity ARN>'".
//   - In the sandbox SES authorizes the send against each recipient's
//     identity too (users of a domain-scoped policy report the 554 naming
//     identity/<recipient>: cloudposse/terraform-aws-ses issues #19, #40),
//     and against configuration-set/<name> when a configuration set
//     applies: the message's X-SES-CONFIGURATION-SET header, else the
//     sending identity's default configuration set (Developer Guide, "Using
//     configuration sets in Amazon SES": "Specifying a configuration set
//     when you send email", and "Default configuration sets").
//   - IAM User Guide, "Policy evaluation logic": an explicit Deny wins;
//     without an Allow the request is implicitly denied. "IAM JSON policy
//     elements: Condition operators": StringEquals/StringLike (case
//     sensitive, * and ? wildcards), their Not forms, and the
//     ForAllValues:/ForAnyValue: set operators for multivalued keys such as
//     ses:Recipients.
//
// The sim evaluates the user's inline policies (sesame writes one; the
// sim has no groups or managed policies).

// sendRequest is what SES authorizes for one SMTP send.
type sendRequest struct {
	resources []string            // ARNs, each must be allowed
	context   map[string][]string // condition keys, lower case
}

// authorizeSend returns the 554 reply when the SMTP user's policies do
// not allow this send, or "" when they do. Called with s.mu held, after
// the sender and recipients passed the verified-identity check (so each
// has an identity).
func (s *Sim) authorizeSend(reg *sesRegion, accessKey, from string, rcpts []string, data []byte) string {
	u := s.user(s.iam.keyOwner(accessKey))
	if u == nil {
		return "" // AUTH already refused keys the sim did not issue
	}
	req := s.sendRequest(reg, from, rcpts, data)
	for _, res := range req.resources {
		if !policiesAllow(u.Policies, "ses:SendRawEmail", res, req.context) {
			return fmt.Sprintf("Access denied: User `%s' is not authorized to perform `ses:SendRawEmail' on resource `%s'", u.ARN, res)
		}
	}
	return ""
}

// sendRequest works out the resources and condition keys of a send.
// ses:FromAddress is the envelope sender (SendRawEmail's Source, which
// the SMTP interface fills from MAIL FROM), or the From header's address
// for the null sender.
func (s *Sim) sendRequest(reg *sesRegion, from string, rcpts []string, data []byte) sendRequest {
	partition := ses.PartitionOfRegion(reg.name)
	arn := func(resource string) string {
		return fmt.Sprintf("arn:%s:ses:%s:%s:%s", partition, reg.name, s.opts.AccountID, resource)
	}
	var header mail.Header
	if m, err := mail.ReadMessage(strings.NewReader(string(data))); err == nil {
		header = m.Header
	}
	fromAddr, display := from, ""
	if list, err := header.AddressList("From"); err == nil && len(list) > 0 {
		display = list[0].Name
		if fromAddr == "" {
			fromAddr = list[0].Address
		}
	}
	req := sendRequest{context: map[string][]string{
		"ses:fromaddress":     {fromAddr},
		"ses:fromdisplayname": {display},
		"ses:feedbackaddress": {from},
		"ses:recipients":      rcpts,
		"aws:requestedregion": {reg.name},
		"aws:securetransport": {"true"},
	}}
	sender := s.identityFor(reg, fromAddr)
	if sender != nil {
		req.resources = append(req.resources, arn("identity/"+sender.Name))
	}
	if !reg.account.production {
		for _, r := range rcpts {
			if id := s.identityFor(reg, r); id != nil {
				if res := arn("identity/" + id.Name); !slices.Contains(req.resources, res) {
					req.resources = append(req.resources, res)
				}
			}
		}
	}
	set := strings.TrimSpace(header.Get("X-SES-CONFIGURATION-SET"))
	if set == "" && sender != nil {
		set = sender.ConfigSet
	}
	if set != "" {
		req.resources = append(req.resources, arn("configuration-set/"+set))
	}
	return req
}

// identityFor is the verified identity SES sends as for addr: the address
// identity when there is one, else the closest verified domain. Called
// with s.mu held.
func (s *Sim) identityFor(reg *sesRegion, addr string) *sesIdentity {
	at := strings.LastIndex(addr, "@")
	if at < 0 {
		return nil
	}
	if id := reg.identities[identityKey(addr)]; id != nil && s.identityStatus(reg, id).verified {
		return id
	}
	for d := strings.ToLower(addr[at+1:]); d != ""; d = strings.TrimSuffix(parentName(d+"."), ".") {
		if id := reg.identities[identityKey(d)]; id != nil && id.Type == "DOMAIN" && s.identityStatus(reg, id).verified {
			return id
		}
	}
	return nil
}

// policyStatement is one statement of an identity-based policy; Action,
// Resource and their Not forms may be a string or a list.
type policyStatement struct {
	Effect      string
	Action      stringOrList
	NotAction   stringOrList
	Resource    stringOrList
	NotResource stringOrList
	Condition   map[string]map[string]stringOrList
}

type stringOrList []string

func (l *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

// IAM's three evaluation decisions, as SimulatePrincipalPolicy names them
// (IAM API Reference, EvaluationResult: EvalDecision is allowed,
// explicitDeny or implicitDeny).
const (
	decisionAllowed      = "allowed"
	decisionExplicitDeny = "explicitDeny"
	decisionImplicitDeny = "implicitDeny"
)

// evaluation is what the user's policies decide for one action on one
// resource.
type evaluation struct {
	decision string
	// matched names the policies whose statements decided it: the Deny
	// statements' for explicitDeny, the Allow statements' for allowed
	// (IAM API Reference, EvaluationResult: MatchedStatements "the deny
	// statement is the only entry included in the result").
	matched []string
	// missing are the condition keys, as the policies spell them, that
	// statements about this action and resource read and ctx lacks
	// (EvaluationResult / ResourceSpecificResult: MissingContextValues).
	missing []string
}

// policiesAllow evaluates documents for one action on one resource: an
// explicit Deny wins, else an Allow is needed. A document that does not
// parse grants nothing.
func policiesAllow(docs map[string]string, action, resource string, ctx map[string][]string) bool {
	return evaluatePolicies(docs, action, resource, ctx).decision == decisionAllowed
}

// evaluatePolicies is IAM's evaluation of identity-based policies (IAM
// User Guide, "Policy evaluation logic"): any applicable Deny gives
// explicitDeny, else any applicable Allow gives allowed, else
// implicitDeny.
func evaluatePolicies(docs map[string]string, action, resource string, ctx map[string][]string) evaluation {
	var allows, denies, missing []string
	for _, name := range slices.Sorted(maps.Keys(docs)) {
		for _, st := range parseStatements(docs[name]) {
			if !st.about(action, resource) {
				continue
			}
			for _, keys := range st.Condition {
				for key := range keys {
					if _, ok := ctx[strings.ToLower(key)]; !ok && !slices.Contains(missing, key) {
						missing = append(missing, key)
					}
				}
			}
			if !st.conditionsHold(ctx) {
				continue
			}
			switch st.Effect {
			case "Deny":
				denies = appendNew(denies, name)
			case "Allow":
				allows = appendNew(allows, name)
			}
		}
	}
	slices.Sort(missing)
	switch {
	case len(denies) > 0:
		return evaluation{decisionExplicitDeny, denies, missing}
	case len(allows) > 0:
		return evaluation{decisionAllowed, allows, missing}
	}
	return evaluation{decisionImplicitDeny, nil, missing}
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// parseStatements reads a policy's Statement, one object or a list; a
// document that does not parse has none.
func parseStatements(doc string) []policyStatement {
	var p struct{ Statement json.RawMessage }
	if json.Unmarshal([]byte(doc), &p) != nil {
		return nil
	}
	var stmts []policyStatement
	if json.Unmarshal(p.Statement, &stmts) != nil {
		var one policyStatement
		if json.Unmarshal(p.Statement, &one) != nil {
			return nil
		}
		stmts = []policyStatement{one}
	}
	return stmts
}

// about reports whether the statement's Action and Resource (or their Not
// forms) cover this action on this resource, conditions aside.
func (st policyStatement) about(action, resource string) bool {
	// Action names match case-insensitively; ARNs case-sensitively.
	actionMatch := func(pats []string) bool {
		return slices.ContainsFunc(pats, func(p string) bool { return wildMatch(strings.ToLower(p), strings.ToLower(action)) })
	}
	resourceMatch := func(pats []string) bool {
		return slices.ContainsFunc(pats, func(p string) bool { return wildMatch(p, resource) })
	}
	switch {
	case st.Action != nil && !actionMatch(st.Action),
		st.NotAction != nil && actionMatch(st.NotAction),
		st.Action == nil && st.NotAction == nil:
		return false
	case st.Resource != nil && !resourceMatch(st.Resource),
		st.NotResource != nil && resourceMatch(st.NotResource),
		st.Resource == nil && st.NotResource == nil:
		return false
	}
	return true
}

// conditionsHold reports whether every condition of the statement holds
// on ctx.
func (st policyStatement) conditionsHold(ctx map[string][]string) bool {
	for op, keys := range st.Condition {
		for key, want := range keys {
			if !conditionHolds(op, ctx[strings.ToLower(key)], want) {
				return false
			}
		}
	}
	return true
}

// conditionHolds evaluates one condition operator on a key's values. An
// operator the sim does not know fails closed, as a policy the sim cannot
// read must not let a send through.
func conditionHolds(op string, have, want []string) bool {
	set, base, _ := strings.Cut(op, ":")
	if base == "" {
		set, base = "", op
	}
	base, ifExists := strings.CutSuffix(base, "IfExists")
	if len(have) == 0 && ifExists {
		return true
	}
	var match func(h, w string) bool
	negate := false
	switch base {
	case "StringEquals":
		match = func(h, w string) bool { return h == w }
	case "StringNotEquals":
		match, negate = func(h, w string) bool { return h == w }, true
	case "StringEqualsIgnoreCase":
		match = strings.EqualFold
	case "StringNotEqualsIgnoreCase":
		match, negate = strings.EqualFold, true
	case "StringLike":
		match = func(h, w string) bool { return wildMatch(w, h) }
	case "StringNotLike":
		match, negate = func(h, w string) bool { return wildMatch(w, h) }, true
	case "Bool":
		match = func(h, w string) bool { return strings.EqualFold(h, w) }
	default:
		return false
	}
	one := func(h string) bool {
		m := slices.ContainsFunc(want, func(w string) bool { return match(h, w) })
		return m != negate
	}
	switch set {
	case "ForAllValues":
		// True for an empty set (IAM User Guide, "Set operators for
		// multivalued context keys").
		for _, h := range have {
			if !one(h) {
				return false
			}
		}
		return true
	case "ForAnyValue":
		return slices.ContainsFunc(have, one)
	case "":
		if len(have) == 0 {
			return negate // a missing key matches only the negated operators
		}
		// A single-valued operator on a multivalued key: any value.
		return slices.ContainsFunc(have, one)
	}
	return false
}

// wildMatch matches s against an IAM pattern: * any run, ? one character.
// path.Match's other specials ([ and \) are escaped first.
func wildMatch(pattern, s string) bool {
	r := strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`, "/", "\x00")
	ok, err := path.Match(r.Replace(pattern), strings.ReplaceAll(s, "/", "\x00"))
	return err == nil && ok
}
