package awssim

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
)

// ChangeResourceRecordSets: a batch is checked change by change against the
// zone as the earlier changes of the batch leave it, and applied only if
// every change is valid (batches are atomic). The failures sesame's safety
// depends on are answered as AWS does, with an InvalidChangeBatch listing
// every message.

type changeBatchRequest struct {
	ChangeBatch struct {
		Comment string `xml:"Comment"`
		Changes []struct {
			Action            string `xml:"Action"`
			ResourceRecordSet struct {
				Name            string    `xml:"Name"`
				Type            string    `xml:"Type"`
				SetIdentifier   string    `xml:"SetIdentifier"`
				TTL             *int64    `xml:"TTL"`
				AliasTarget     *struct{} `xml:"AliasTarget"`
				ResourceRecords *struct {
					Values []string `xml:"ResourceRecord>Value"`
				} `xml:"ResourceRecords"`
			} `xml:"ResourceRecordSet"`
		} `xml:"Changes>Change"`
	} `xml:"ChangeBatch"`
}

// rrTypes are the record types Route 53 accepts.
var rrTypes = map[string]bool{
	"A": true, "AAAA": true, "CAA": true, "CNAME": true, "DS": true, "HTTPS": true, "MX": true,
	"NAPTR": true, "NS": true, "PTR": true, "SOA": true, "SPF": true, "SRV": true, "SSHFP": true,
	"SVCB": true, "TLSA": true, "TXT": true,
}

// change is one decoded, validated change of a batch.
type change struct {
	Action string
	Set    rrset
}

func (s *Sim) r53ChangeResourceRecordSets(r *request, parts []string) (reply, *apiError) {
	z, ae := s.zoneArg(parts)
	if ae != nil {
		return reply{}, ae
	}
	var in changeBatchRequest
	if err := xml.Unmarshal(r.Body, &in); err != nil {
		return reply{}, invalidInput("Could not parse the request body: %v", err)
	}
	if len(in.ChangeBatch.Changes) == 0 {
		return reply{}, invalidInput("1 validation error detected: Value '[]' at 'changeBatch.changes' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	var changes []change
	for _, c := range in.ChangeBatch.Changes {
		set := c.ResourceRecordSet
		typ := strings.ToUpper(set.Type)
		switch {
		case c.Action != "CREATE" && c.Action != "DELETE" && c.Action != "UPSERT":
			return reply{}, invalidInput("1 validation error detected: Value '%s' at 'changeBatch.changes.action' failed to satisfy constraint: Member must satisfy enum value set: [CREATE, DELETE, UPSERT]", c.Action)
		case !rrTypes[typ]:
			return reply{}, invalidInput("1 validation error detected: Value '%s' at 'changeBatch.changes.resourceRecordSet.type' failed to satisfy constraint: Member must satisfy enum value set", set.Type)
		case set.AliasTarget != nil || set.SetIdentifier != "":
			return reply{}, invalidInput("sesame-sim simulates simple record sets only: alias and routing-policy records are not supported")
		case set.TTL == nil || set.ResourceRecords == nil:
			return reply{}, invalidInput("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=%s, Name=%s, Type=%s, SetIdentifier=null]", c.Action, set.Name, typ)
		case len(set.ResourceRecords.Values) == 0:
			return reply{}, invalidInput("1 validation error detected: Value '[]' at 'changeBatch.changes.resourceRecordSet.resourceRecords' failed to satisfy constraint: Member must have length greater than or equal to 1")
		}
		changes = append(changes, change{Action: c.Action, Set: rrset{Name: decodeName(set.Name), Type: typ, TTL: *set.TTL, Values: set.ResourceRecords.Values}})
	}
	sets, msgs := applyChanges(z, changes)
	if len(msgs) > 0 {
		return reply{}, s.invalidChangeBatch(msgs)
	}
	z.Sets = sets
	c := s.newChange(in.ChangeBatch.Comment)
	return restXMLReply(200, "ChangeResourceRecordSetsResponse", struct {
		ChangeInfo xmlChangeInfo `xml:"ChangeInfo"`
	}{s.changeInfo(c)})
}

// invalidChangeBatch renders Route 53's refusal of a batch. Since 2024
// Route 53 answers in the standard error form, the messages joined by ", "
// in brackets (aws-sdk-kotlin #1433; the AWS CLI parses only this form):
//
//	<ErrorResponse><Error><Type>Sender</Type><Code>InvalidChangeBatch</Code><Message>[m1, m2]</Message></Error><RequestId>…
//
// Options.LegacyChangeBatchErrors sends the older root element instead,
// <InvalidChangeBatch><Messages><Message>…, which the Go SDK still decodes
// into types.InvalidChangeBatch{Messages}.
func (s *Sim) invalidChangeBatch(msgs []string) *apiError {
	if !s.opts.LegacyChangeBatchErrors {
		return &apiError{status: 400, code: "InvalidChangeBatch", message: "[" + strings.Join(msgs, ", ") + "]"}
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<InvalidChangeBatch xmlns="%s"><Messages>`, route53NS)
	for _, m := range msgs {
		fmt.Fprintf(&b, "<Message>%s</Message>", xmlEscape(m))
	}
	fmt.Fprintf(&b, "</Messages><RequestId>%s</RequestId></InvalidChangeBatch>", newRequestID())
	return &apiError{status: 400, code: "InvalidChangeBatch", message: strings.Join(msgs, "; "), raw: b.Bytes()}
}

// applyChanges checks and applies a batch to a copy of the zone's sets. It
// returns the new sets, or every message of the changes that fail.
func applyChanges(z *hostedZone, changes []change) (map[rrKey]*rrset, []string) {
	sets := make(map[rrKey]*rrset, len(z.Sets))
	for k, v := range z.Sets {
		sets[k] = v
	}
	var msgs []string
	// A set may be deleted and created again in one batch (the way a set
	// is replaced with exact control over its old form); the same action
	// twice, or an UPSERT beside another change, is refused.
	seen := map[rrKey]map[string]bool{}
	for _, c := range changes {
		set := c.Set
		k := rrKey{set.Name, set.Type}
		if prev := seen[k]; prev[c.Action] || (len(prev) > 0 && (c.Action == "UPSERT" || prev["UPSERT"])) {
			msgs = append(msgs, fmt.Sprintf("The request contains an invalid set of changes for a resource record set '%s %s'", set.Type, encodeName(set.Name)))
			continue
		}
		if seen[k] == nil {
			seen[k] = map[string]bool{}
		}
		seen[k][c.Action] = true
		if msg := checkSet(z, set); msg != "" {
			msgs = append(msgs, msg)
			continue
		}
		cur := sets[k]
		switch c.Action {
		case "DELETE":
			switch {
			case cur == nil:
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set [name='%s', type='%s'] but it was not found", encodeName(set.Name), set.Type))
			case cur.TTL != set.TTL || !sameValues(cur.Values, set.Values):
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set [name='%s', type='%s'] but the values provided do not match the current values", encodeName(set.Name), set.Type))
			case set.Name == z.Name && set.Type == "SOA":
				msgs = append(msgs, "A HostedZone must contain exactly one SOA record.")
			case set.Name == z.Name && set.Type == "NS":
				msgs = append(msgs, "A HostedZone must contain at least one NS record for the zone itself.")
			default:
				delete(sets, k)
			}
			continue
		case "CREATE":
			if cur != nil {
				msgs = append(msgs, fmt.Sprintf("Tried to create resource record set [name='%s', type='%s'] but it already exists", encodeName(set.Name), set.Type))
				continue
			}
		}
		if msg := cnameConflict(z, sets, set); msg != "" {
			msgs = append(msgs, msg)
			continue
		}
		stored := set
		stored.Values = append([]string(nil), set.Values...)
		sets[k] = &stored
	}
	return sets, msgs
}

// checkSet validates one set against its zone and the rules of its type.
func checkSet(z *hostedZone, set rrset) string {
	name := encodeName(set.Name)
	switch {
	case !inZone(set.Name, z.Name):
		return fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", name, encodeName(z.Name))
	case set.Type == "CNAME" && set.Name == z.Name:
		return fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s", name, encodeName(z.Name))
	case (set.Type == "CNAME" || set.Type == "SOA") && len(set.Values) > 1:
		return fmt.Sprintf("RRSet of type %s with DNS name %s is not permitted to have more than one ResourceRecord", set.Type, name)
	case set.TTL < 0 || set.TTL > 2147483647:
		return fmt.Sprintf("Invalid TTL %d for RRSet with DNS name %s and type %s", set.TTL, name, set.Type)
	}
	for _, v := range set.Values {
		if msg := checkValue(set.Type, v); msg != "" {
			return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: %s encountered with '%s''", msg, v)
		}
	}
	return ""
}

// checkValue catches the value mistakes a client can make in the types
// sesame writes: unquoted TXT strings, MX without a preference, empty
// targets.
func checkValue(typ, v string) string {
	switch {
	case v == "":
		return "ARRDATAIllegalValue (Value must not be empty)"
	case len(v) > 4000:
		return "ARRDATAIllegalValue (Value is longer than 4000 characters)"
	}
	switch typ {
	case "TXT", "SPF":
		if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return "InvalidCharacterString (Value should be enclosed in quotation marks)"
		}
		for _, part := range splitTXT(v) {
			if len(part) > 255 {
				return "CharacterStringTooLong (Value is too long)"
			}
		}
	case "MX":
		f := strings.Fields(v)
		if len(f) != 2 || strings.Trim(f[0], "0123456789") != "" {
			return "InvalidMXRecord (MX record must be 'priority host')"
		}
	case "CNAME", "NS", "PTR":
		if strings.ContainsAny(v, " \t\"") {
			return "DomainLabelInvalid (Value is not a valid domain name)"
		}
	}
	return ""
}

// splitTXT splits a TXT value into its quoted strings (without quotes).
func splitTXT(v string) []string {
	var out []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && i+1 < len(v):
			cur.WriteByte(c)
			cur.WriteByte(v[i+1])
			i++
		case c == '"':
			if in {
				out = append(out, cur.String())
				cur.Reset()
			}
			in = !in
		case in:
			cur.WriteByte(c)
		}
	}
	return out
}

// cnameConflict enforces that a name with a CNAME has no other records.
func cnameConflict(z *hostedZone, sets map[rrKey]*rrset, set rrset) string {
	for k := range sets {
		if k.Name != set.Name || k.Type == set.Type {
			continue
		}
		if set.Type == "CNAME" {
			return fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone %s", encodeName(set.Name), encodeName(z.Name))
		}
		if k.Type == "CNAME" {
			return fmt.Sprintf("RRSet of type %s with DNS name %s is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone %s", set.Type, encodeName(set.Name), encodeName(z.Name))
		}
	}
	return ""
}

// sameValues compares record values as a set, as Route 53 does on DELETE.
func sameValues(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
