package awssim

import (
	"strconv"
	"time"
)

// The restJson1 shapes of the SES v2 answers. Member names are the Smithy
// model's (sesv2/schemas); timestamps are epoch seconds, as restJson1
// sends them.

// epoch is a timestamp in restJson1's default format: epoch seconds, with
// milliseconds as a fraction.
type epoch time.Time

// MarshalJSON writes the timestamp as a JSON number of seconds.
func (e epoch) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(time.Time(e).UnixMilli())/1000, 'f', -1, 64)), nil
}

type dkimJSON struct {
	SigningEnabled             bool
	Status                     string
	Tokens                     []string `json:",omitempty"`
	SigningHostedZone          string   `json:",omitempty"`
	SigningAttributesOrigin    string
	NextSigningKeyLength       string `json:",omitempty"`
	CurrentSigningKeyLength    string `json:",omitempty"`
	LastKeyGenerationTimestamp *epoch `json:",omitempty"`
}

// dkimAttrs renders an identity's Easy DKIM attributes. Email addresses
// have DKIM NOT_STARTED and no tokens (their domain signs, if verified).
func dkimAttrs(id *sesIdentity, st identityState) *dkimJSON {
	d := &dkimJSON{Status: st.dkim, SigningAttributesOrigin: "AWS_SES"}
	if id.Type != "DOMAIN" {
		return d
	}
	if id.dkimOrigin == "EXTERNAL" || id.noEasyDKIM {
		return id.otherDKIMAttrs(d)
	}
	gen := epoch(id.Created)
	d.SigningEnabled = true
	d.Tokens = append([]string(nil), id.Tokens...)
	d.SigningHostedZone = id.SigningZone
	d.NextSigningKeyLength = id.KeyLength
	d.CurrentSigningKeyLength = id.KeyLength
	d.LastKeyGenerationTimestamp = &gen
	return d
}

type tagJSON struct{ Key, Value string }

type soaJSON struct {
	PrimaryNameServer, AdminEmail string
	SerialNumber                  int64
}

type verificationInfoJSON struct {
	LastCheckedTimestamp epoch
	LastSuccessTimestamp *epoch   `json:",omitempty"`
	ErrorType            string   `json:",omitempty"`
	SOARecord            *soaJSON `json:",omitempty"`
}

type mailFromJSON struct {
	MailFromDomain, MailFromDomainStatus, BehaviorOnMxFailure string
}

type getIdentityJSON struct {
	IdentityType             string
	FeedbackForwardingStatus bool
	VerifiedForSendingStatus bool
	VerificationStatus       string
	DkimAttributes           *dkimJSON
	MailFromAttributes       *mailFromJSON `json:",omitempty"`
	Policies                 map[string]string
	Tags                     []tagJSON
	ConfigurationSetName     string `json:",omitempty"`
	VerificationInfo         *verificationInfoJSON
}

type identityInfoJSON struct {
	IdentityType, IdentityName string
	SendingEnabled             bool
	VerificationStatus         string
}

type sendQuotaJSON struct {
	Max24HourSend, MaxSendRate, SentLast24Hours float64
}

type reviewJSON struct{ Status, CaseId string }

type detailsJSON struct {
	MailType                        string
	WebsiteURL                      string
	ContactLanguage                 string      `json:",omitempty"`
	UseCaseDescription              string      `json:",omitempty"`
	AdditionalContactEmailAddresses []string    `json:",omitempty"`
	ReviewDetails                   *reviewJSON `json:",omitempty"`
}

type suppressionJSON struct{ SuppressedReasons []string }

type accountJSON struct {
	DedicatedIpAutoWarmupEnabled bool
	EnforcementStatus            string
	ProductionAccessEnabled      bool
	SendQuota                    sendQuotaJSON
	SendingEnabled               bool
	SuppressionAttributes        *suppressionJSON
	Details                      *detailsJSON `json:",omitempty"`
}
