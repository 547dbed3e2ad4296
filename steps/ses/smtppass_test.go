package ses

import "testing"

// The published vectors of terraform-provider-aws
// (TestSESSMTPPasswordFromSecretKeySigV4).
func TestSMTPPassword(t *testing.T) {
	tests := []struct{ region, secret, want string }{
		{"eu-central-1", "some+secret+key", "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2"},
		{"eu-central-1", "another+secret+key", "BBbphbrQmrKMx42d1N6+C7VINYEBGI5v9VsZeTxwskfh"},
		{"us-west-1", "some+secret+key", "BH+jbMzper5WwlwUar9E1ySBqHa9whi0GPo+sJ0mVYJj"},
		{"us-west-1", "another+secret+key", "BKVmjjMDFk/qqw8EROW99bjCS65PF8WKvK5bSr4Y6EqF"},
	}
	for _, tt := range tests {
		if got := SMTPPassword(tt.secret, tt.region); got != tt.want {
			t.Errorf("SMTPPassword(%q, %q) = %q, want %q", tt.secret, tt.region, got, tt.want)
		}
	}
}
