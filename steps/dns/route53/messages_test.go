package route53

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// Both of Route 53's InvalidChangeBatch forms give the same messages.
func TestChangeBatchMessages(t *testing.T) {
	const (
		exists   = "Tried to create resource record set [name='x.example.com.', type='TXT'] but it already exists"
		conflict = "RRSet of type CNAME with DNS name y.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com."
	)
	tests := []struct {
		name string
		icb  *r53types.InvalidChangeBatch
		want []string
	}{
		{"older form: Messages", &r53types.InvalidChangeBatch{Messages: []string{exists, conflict}}, []string{exists, conflict}},
		{"standard form: one message in brackets", &r53types.InvalidChangeBatch{Message: aws.String("[" + exists + "]")}, []string{exists}},
		{"standard form: two messages in brackets", &r53types.InvalidChangeBatch{Message: aws.String("[" + exists + ", " + conflict + "]")}, []string{exists, conflict}},
		{"standard form as aws-sdk-kotlin PR #1435 quotes it", &r53types.InvalidChangeBatch{Message: aws.String("[Tried to delete resource record set [name='test.blerg.com.', type='CNAME'] but the values provided do not match the current values, Tried to create resource record set [name='test.blerg.com.', type='CNAME'] but it already exists]")},
			[]string{"Tried to delete resource record set [name='test.blerg.com.', type='CNAME'] but the values provided do not match the current values", "Tried to create resource record set [name='test.blerg.com.', type='CNAME'] but it already exists"}},
		{"a message without brackets stays whole", &r53types.InvalidChangeBatch{Message: aws.String(conflict)}, []string{conflict}},
		{"nothing", &r53types.InvalidChangeBatch{}, nil},
		{"nil", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ChangeBatchMessages(tt.icb); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
