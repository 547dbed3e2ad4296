package awssim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	r53provider "github.com/sesame-tool/sesame/steps/dns/route53"
)

// A refused batch comes in today's standard ErrorResponse, the messages in
// brackets (Route 53 since 2024, aws-sdk-kotlin #1433), or with
// LegacyChangeBatchErrors in the older <InvalidChangeBatch><Messages>
// root; sesame reads the same messages from both.
func TestRoute53InvalidChangeBatchForms(t *testing.T) {
	msgs := []string{
		"Tried to create resource record set [name='example.com.', type='TXT'] but it already exists",
		"Tried to delete resource record set [name='nope.example.com.', type='TXT'] but it was not found",
	}
	tests := []struct {
		name   string
		legacy bool
		root   string // the wire body's root element
	}{
		{"standard ErrorResponse", false, "<ErrorResponse"},
		{"older InvalidChangeBatch root", true, "<InvalidChangeBatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			url := endpoint(t, New(Options{LegacyChangeBatchErrors: tt.legacy}))
			c := r53Client(url)
			id := aws.ToString(createZone(t, c, "example.com", nil).HostedZone.Id)
			if _, err := applyBatch(ctx, c, id, rr("CREATE", "example.com", "TXT", 300, `"a"`)); err != nil {
				t.Fatal(err)
			}
			_, err := applyBatch(ctx, c, id, rr("CREATE", "example.com", "TXT", 300, `"b"`), rr("DELETE", "nope.example.com", "TXT", 300, `"a"`))
			var icb *r53types.InvalidChangeBatch
			if !errors.As(err, &icb) {
				t.Fatalf("error %v, want InvalidChangeBatch", err)
			}
			if got := r53provider.ChangeBatchMessages(icb); !slices.Equal(got, msgs) {
				t.Errorf("messages %q, want %q", got, msgs)
			}

			// The wire form itself, as the AWS CLI reads it.
			body := `<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>example.com</Name><Type>TXT</Type><TTL>300</TTL><ResourceRecords><ResourceRecord><Value>"c"</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`
			req, _ := http.NewRequest(http.MethodPost, url+"/2013-04-01"+id+"/rrset/", bytes.NewBufferString(body))
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIATESTOPERATOR0000/20260101/us-east-1/route53/aws4_request, SignedHeaders=host, Signature=0")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.Contains(string(raw), tt.root) {
				t.Fatalf("HTTP %d %s, want 400 with root %s", resp.StatusCode, raw, tt.root)
			}
			if !tt.legacy && !strings.Contains(string(raw), "<Code>InvalidChangeBatch</Code><Message>[Tried to create resource record set [name=&#39;example.com.&#39;, type=&#39;TXT&#39;] but it already exists]</Message>") {
				t.Errorf("standard form body = %s", raw)
			}
		})
	}
}
