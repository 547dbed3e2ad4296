package awssim

import (
	"slices"
	"strconv"
	"strings"
)

// SimulatePrincipalPolicy over awsQuery: IAM's policy simulator, answering
// with the same evaluator that authorizes the sim's SMTP sends
// (evaluatePolicies), so what it says a user may do is what the sim's SES
// then lets the user do.
//
// Sources:
//   - IAM API Reference, "SimulatePrincipalPolicy": PolicySourceArn (a
//     user's ARN: the simulation includes all its policies),
//     ActionNames.member.N (required), ResourceArns.member.N (default *),
//     ContextEntries.member.N.{ContextKeyName,ContextKeyType,
//     ContextKeyValues.member.M}, PolicyInputList.member.N (more policies to
//     include), MaxItems (1–1000) and Marker; errors InvalidInput (400) and
//     NoSuchEntity (404).
//   - IAM API Reference, "EvaluationResult" and "ResourceSpecificResult":
//     one result per action, EvalDecision allowed | explicitDeny |
//     implicitDeny, EvalResourceName the ARN template of the resource type
//     ("*" when none is defined), MatchedStatements (for a deny only the
//     deny statement), MissingContextValues (per resource when
//     ResourceArns lists resources), ResourceSpecificResults one per
//     resource; the top-level result reports the most restrictive decision
//     across the requested resources.
//   - IAM API Reference, "Statement": SourcePolicyId and SourcePolicyType
//     (user for a user's inline policy, none for PolicyInputList's).
//   - Service Authorization Reference, "Actions, resources, and condition
//     keys for Amazon SES": the identity and configuration-set resource
//     types' ARN formats, the templates below.
//
// The sim keeps inline user policies only (no groups, managed policies,
// permissions boundaries or resource policies), so CallerArn,
// ResourcePolicy, PermissionsBoundaryPolicyInputList and
// PolicyExclusionList have nothing to act on.

// resourceTemplates are the ARN formats of the resource types the sim
// evaluates, by the resource part's type.
var resourceTemplates = map[string]string{
	"ses:identity":          "arn:${Partition}:ses:${Region}:${Account}:identity/${IdentityName}",
	"ses:configuration-set": "arn:${Partition}:ses:${Region}:${Account}:configuration-set/${ConfigurationSetName}",
}

// resourceTemplate is the ARN template of arn's resource type, or "*".
func resourceTemplate(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return "*"
	}
	typ, _, _ := strings.Cut(parts[5], "/")
	if t, ok := resourceTemplates[parts[2]+":"+typ]; ok {
		return t
	}
	return "*"
}

// decisionRank orders decisions from least to most restrictive.
var decisionRank = map[string]int{decisionAllowed: 0, decisionImplicitDeny: 1, decisionExplicitDeny: 2}

type (
	xmlStatement struct {
		SourcePolicyID   string `xml:"SourcePolicyId"`
		SourcePolicyType string `xml:"SourcePolicyType"`
	}
	xmlResourceResult struct {
		EvalResourceName     string         `xml:"EvalResourceName"`
		EvalResourceDecision string         `xml:"EvalResourceDecision"`
		MatchedStatements    []xmlStatement `xml:"MatchedStatements>member"`
		MissingContextValues []string       `xml:"MissingContextValues>member"`
	}
	xmlEvaluationResult struct {
		EvalActionName          string              `xml:"EvalActionName"`
		EvalResourceName        string              `xml:"EvalResourceName"`
		EvalDecision            string              `xml:"EvalDecision"`
		MatchedStatements       []xmlStatement      `xml:"MatchedStatements>member"`
		MissingContextValues    []string            `xml:"MissingContextValues>member"`
		ResourceSpecificResults []xmlResourceResult `xml:"ResourceSpecificResults>member"`
	}
)

// userByARN finds the user an ARN names (the name part matches
// case-insensitively, as IAM's names do). Called with s.mu held.
func (s *Sim) userByARN(arn string) *iamUser {
	for _, u := range s.iam.users {
		if strings.EqualFold(u.ARN, arn) {
			return u
		}
	}
	return nil
}

// formStrings reads prefix.member.1, prefix.member.2, … in order.
func formStrings(form map[string][]string, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[prefix+".member."+strconv.Itoa(i)]
		if !ok || len(v) == 0 {
			return out
		}
		out = append(out, v[0])
	}
}

// simulationContext reads ContextEntries into the evaluator's context:
// key names lower case (condition keys are case-insensitive), each with
// its values.
func simulationContext(form map[string][]string) (map[string][]string, *apiError) {
	ctx := map[string][]string{}
	for i := 1; ; i++ {
		p := "ContextEntries.member." + strconv.Itoa(i) + "."
		name, typ := first(form[p+"ContextKeyName"]), first(form[p+"ContextKeyType"])
		values := formStrings(form, p+"ContextKeyValues")
		if name == "" && typ == "" && values == nil {
			return ctx, nil
		}
		if name == "" {
			return nil, iamValidation("contextEntries.member."+strconv.Itoa(i)+".contextKeyName", "null", "Member must not be null")
		}
		switch typ {
		case "", "string", "stringList", "numeric", "numericList", "boolean", "booleanList", "ip", "ipList", "binary", "binaryList", "date", "dateList":
		default:
			return nil, iamValidation("contextEntries.member."+strconv.Itoa(i)+".contextKeyType", typ,
				"Member must satisfy enum value set: [string, stringList, numeric, numericList, boolean, booleanList, ip, ipList, binary, binaryList, date, dateList]")
		}
		key := strings.ToLower(name)
		ctx[key] = append(ctx[key], values...)
	}
}

func (s *Sim) iamSimulatePrincipalPolicy(r *request) (reply, *apiError) {
	source := first(r.Form["PolicySourceArn"])
	if source == "" {
		return reply{}, iamValidation("policySourceArn", "null", "Member must not be null")
	}
	actions := formStrings(r.Form, "ActionNames")
	if len(actions) == 0 {
		return reply{}, iamValidation("actionNames", "null", "Member must not be null")
	}
	resources := formStrings(r.Form, "ResourceArns")
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	ctx, ae := simulationContext(r.Form)
	if ae != nil {
		return reply{}, ae
	}
	parts := strings.SplitN(source, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" || parts[2] != "iam" {
		return reply{}, errf(400, "InvalidInput", "Invalid ARN: %s", source)
	}
	u := s.userByARN(source)
	if u == nil {
		_, name, _ := strings.Cut(parts[5], "/")
		return reply{}, errf(404, "NoSuchEntity", "The user with name %s cannot be found.", name[strings.LastIndex(name, "/")+1:])
	}
	if ae := s.propagating(u); ae != nil {
		return reply{}, ae
	}
	docs := map[string]string{}
	types := map[string]string{}
	for name, doc := range u.Policies {
		docs[name], types[name] = doc, "user"
	}
	for i, doc := range formStrings(r.Form, "PolicyInputList") {
		id := "PolicyInputList." + strconv.Itoa(i+1)
		docs[id], types[id] = doc, "none"
	}
	statements := func(names []string) []xmlStatement {
		var out []xmlStatement
		for _, n := range names {
			out = append(out, xmlStatement{n, types[n]})
		}
		return out
	}
	var results []xmlEvaluationResult
	for _, action := range actions {
		res := xmlEvaluationResult{EvalActionName: action, EvalResourceName: resourceTemplate(resources[0]), EvalDecision: decisionAllowed}
		var matched, missing []string
		for _, arn := range resources {
			ev := evaluatePolicies(docs, action, arn, ctx)
			res.ResourceSpecificResults = append(res.ResourceSpecificResults, xmlResourceResult{
				EvalResourceName: arn, EvalResourceDecision: ev.decision,
				MatchedStatements: statements(ev.matched), MissingContextValues: ev.missing,
			})
			if decisionRank[ev.decision] > decisionRank[res.EvalDecision] {
				res.EvalDecision = ev.decision
			}
			for _, m := range ev.missing {
				missing = appendNew(missing, m)
			}
		}
		// The top level keeps the statements behind the decision it reports.
		for _, rr := range res.ResourceSpecificResults {
			if rr.EvalResourceDecision == res.EvalDecision {
				for _, st := range rr.MatchedStatements {
					matched = appendNew(matched, st.SourcePolicyID)
				}
			}
		}
		slices.Sort(missing)
		res.MatchedStatements, res.MissingContextValues = statements(matched), missing
		results = append(results, res)
	}
	results, next, ae := pageItems(results, r)
	if ae != nil {
		return reply{}, ae
	}
	return queryReply(iamNS, "SimulatePrincipalPolicy", struct {
		EvaluationResults []xmlEvaluationResult `xml:"EvaluationResults>member"`
		IsTruncated       bool                  `xml:"IsTruncated"`
		Marker            string                `xml:"Marker,omitempty"`
	}{results, next != "", next})
}

// pageItems cuts a list at an opaque Marker (here the index of the first
// item of the page) and MaxItems (default 100, at most 1000), as IAM's
// list answers page.
func pageItems[T any](items []T, r *request) ([]T, string, *apiError) {
	max, ae := iamMaxItems(r)
	if ae != nil {
		return nil, "", ae
	}
	start := 0
	if m := first(r.Form["Marker"]); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", errf(400, "InvalidInput", "Invalid Marker: %s", m)
		}
		start = n
	}
	items = items[start:]
	if len(items) > max {
		return items[:max], strconv.Itoa(start + max), nil
	}
	return items, "", nil
}
