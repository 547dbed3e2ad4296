package steps

import (
	"time"

	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/mta"
)

// Facts are what steps discovered from AWS during one run. Later steps read
// what earlier ones found (the DNS step needs the identity's DKIM tokens),
// and front ends render them. Nothing here is saved.
type Facts struct {
	Account     *AccountInfo
	Credentials *Credentials
	Identity    *IdentityInfo
	Zone        *dns.Zone
	// Records are the DNS records the domain needs, as the dns step worked
	// them out (DKIM CNAMEs, MAIL FROM MX and SPF, DMARC).
	Records []dns.Desired
	MX      *MXReport
	Sandbox *SandboxReport
	Relay   *RelayReport
	// Manual are the records the operator publishes at their DNS host
	// (no hosted zone in this account, or names delegated away from it).
	Manual *dns.Manual
}

// AccountInfo is who and where sesame is working.
type AccountInfo struct {
	ID     string `json:"id"`
	ARN    string `json:"arn"`
	Region string `json:"region"`
	// IsRoot is true when the caller is the account's root user.
	IsRoot bool `json:"is_root,omitempty"`
}

// Credentials are the SMTP credentials sesame made or found on disk.
type Credentials struct {
	UserName    string `json:"user_name"`
	AccessKeyID string `json:"username"` // the SMTP user name is the access key id
	Host        string `json:"host"`
	Port        int    `json:"port"`
	// Password is the SMTP password; it is only ever written to the relay files.
	Password mta.Secret `json:"-"`
	// File is the file that holds the password (sasl_passwd).
	File string `json:"file"`
	// Created is true when this run created the key.
	Created bool `json:"created,omitempty"`
}

// IdentityInfo is the SES identity of the domain, as GetEmailIdentity says.
type IdentityInfo struct {
	Domain             string   `json:"domain"`
	VerificationStatus string   `json:"verification_status"`
	VerifiedForSending bool     `json:"verified_for_sending"`
	DKIMStatus         string   `json:"dkim_status"`
	Tokens             []string `json:"tokens,omitempty"`
	// SigningHostedZone is where the DKIM CNAMEs point (dkim.amazonses.com
	// in most regions).
	SigningHostedZone string `json:"signing_hosted_zone,omitempty"`
	// DKIMOrigin is DkimAttributes.SigningAttributesOrigin: AWS_SES (Easy
	// DKIM), EXTERNAL (bring your own DKIM: a selector, no tokens), or
	// AWS_SES_<REGION> for a replica.
	DKIMOrigin string `json:"dkim_origin,omitempty"`
	// DKIMSigning is DkimAttributes.SigningEnabled.
	DKIMSigning bool `json:"dkim_signing,omitempty"`
	// ConfigurationSet is the identity's default configuration set, if
	// any: SES authorizes sends against it too.
	ConfigurationSet string `json:"configuration_set,omitempty"`
	MailFromDomain   string `json:"mail_from_domain,omitempty"`
	MailFromStatus   string `json:"mail_from_status,omitempty"`
	// ErrorType is SES's VerificationInfo.ErrorType, when it gave one.
	ErrorType string `json:"error_type,omitempty"`
}

// MXReport lists the domain's MX records, which sesame never touches.
type MXReport struct {
	Domain  string   `json:"domain"`
	Records []string `json:"records"`
}

// VerificationProgress is published on each poll while SES verifies.
type VerificationProgress struct {
	Elapsed        time.Duration    `json:"elapsed"`
	NextCheck      time.Duration    `json:"next_check"`
	Checks         int              `json:"checks"`
	Status         string           `json:"status"`
	DKIMStatus     string           `json:"dkim_status"`
	MailFromStatus string           `json:"mail_from_status,omitempty"`
	Records        []dns.Visibility `json:"records"`
}

// SandboxReport is the account's sending status in the region.
type SandboxReport struct {
	ProductionAccess  bool    `json:"production_access"`
	SendingEnabled    bool    `json:"sending_enabled"`
	EnforcementStatus string  `json:"enforcement_status,omitempty"`
	Max24HourSend     float64 `json:"max_24_hour_send"`
	MaxSendRate       float64 `json:"max_send_rate"`
	SentLast24Hours   float64 `json:"sent_last_24_hours"`
	ReviewStatus      string  `json:"review_status,omitempty"`
	CaseID            string  `json:"case_id,omitempty"`
}

// RelayReport is what the relay step wrote and found.
type RelayReport struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	// Files are the files written, by role.
	Files map[string]string `json:"files"`
	// LoginTest is "ok", "skipped" or "failed".
	LoginTest string `json:"login_test"`
	// TestSentTo is the address SES accepted this run's test message for
	// (--test-to, or the sandbox step's offer); "" when none was sent.
	TestSentTo string `json:"test_sent_to,omitempty"`
	Detail     string `json:"detail,omitempty"`
}
