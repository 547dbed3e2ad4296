package awssim

import (
	"bytes"
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Helpers shared by the awsQuery services (IAM, STS) and Route 53's
// restXml: building XML replies, reading indexed form lists, and ids.

const (
	iamNS     = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsNS     = "https://sts.amazonaws.com/doc/2011-06-15/"
	route53NS = "https://route53.amazonaws.com/doc/2013-04-01/"
)

// queryReply renders an awsQuery answer:
// <OpResponse xmlns=ns><OpResult>result</OpResult><ResponseMetadata>…
// A nil result gives the bare response AWS sends for operations without
// output (TagUser, PutUserPolicy, DeleteAccessKey).
func queryReply(ns, op string, result any) (reply, *apiError) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<%sResponse xmlns="%s">`, op, ns)
	if result != nil {
		enc := xml.NewEncoder(&b)
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: op + "Result"}}); err != nil {
			return reply{}, errf(500, "ServiceFailure", "sesame-sim could not encode %s: %v", op, err)
		}
		_ = enc.Flush()
	}
	fmt.Fprintf(&b, `<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, newRequestID(), op)
	return reply{status: 200, contentType: "text/xml", body: b.Bytes()}, nil
}

// restXMLReply renders a Route 53 answer with root element root.
func restXMLReply(status int, root string, v any) (reply, *apiError) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	start := xml.StartElement{
		Name: xml.Name{Local: root},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: route53NS}},
	}
	if err := enc.EncodeElement(v, start); err != nil {
		return reply{}, errf(500, "InternalFailure", "sesame-sim could not encode %s: %v", root, err)
	}
	_ = enc.Flush()
	return reply{status: status, contentType: "text/xml", body: b.Bytes()}, nil
}

// awsTime formats a timestamp as AWS's XML protocols do.
func awsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// formList reads an awsQuery list ("Tags.member.1.Key", …) into one map
// per index, in index order, stopping at the first missing index as AWS's
// parser does.
func formList(form map[string][]string, prefix string) []map[string]string {
	var out []map[string]string
	for i := 1; ; i++ {
		p := prefix + "." + strconv.Itoa(i) + "."
		m := map[string]string{}
		for k, v := range form {
			if strings.HasPrefix(k, p) && len(v) > 0 {
				m[strings.TrimPrefix(k, p)] = v[0]
			}
		}
		if len(m) == 0 {
			return out
		}
		out = append(out, m)
	}
}

const upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randString returns n characters of alphabet from crypto/rand. Ids do not
// come from the fault rng, so the fault sequence of a seed does not depend
// on how many ids were made.
func randString(alphabet string, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("awssim: crypto/rand failed: %v", err))
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// newRequestID returns an AWS-style request id (a UUID).
func newRequestID() string {
	const hex = "0123456789abcdef"
	s := randString(hex, 32)
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
