package route53

import (
	"strings"

	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// ChangeBatchMessages returns Route 53's reasons for refusing a batch, in
// either of the forms it has answered InvalidChangeBatch in:
//
//   - today's standard error (since 2024; aws-sdk-kotlin issue #1433 and
//     PR #1435, which quotes such an answer):
//     <ErrorResponse><Error><Code>InvalidChangeBatch</Code><Message>[m1, m2]</Message>…,
//     which the SDK decodes with the messages in Message, in brackets,
//     joined by ", ";
//   - the older root <InvalidChangeBatch><Messages><Message>m1</Message>…,
//     which the SDK's customization (route53 internal/customizations,
//     custom_error_deser.go) decodes into Messages.
//
// A message holds brackets of its own ("Tried to create resource record
// set [name='x.example.com.', type='TXT'] but it already exists"), so the
// list is split only at ", " outside them.
func ChangeBatchMessages(icb *r53types.InvalidChangeBatch) []string {
	if icb == nil {
		return nil
	}
	if len(icb.Messages) > 0 {
		return icb.Messages
	}
	msg := strings.TrimSpace(icb.ErrorMessage())
	inner, ok := strings.CutPrefix(msg, "[")
	if ok {
		inner, ok = strings.CutSuffix(inner, "]")
	}
	if !ok || inner == "" {
		if msg == "" {
			return nil
		}
		return []string{msg}
	}
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(inner); i++ {
		switch inner[i] {
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth == 0 && i+1 < len(inner) && inner[i+1] == ' ' {
				out = append(out, inner[start:i])
				start = i + 2
				i++
			}
		}
	}
	return append(out, inner[start:])
}
