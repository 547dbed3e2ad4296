package steps

import "github.com/sesame-tool/sesame/steps/ses"

// ValidateSMTPPort accepts the SES SMTP ports a relay can use
// (ses.SMTPPorts), as the *InputError of --smtp-port.
func ValidateSMTPPort(port int) error {
	if err := ses.CheckSMTPPort(port); err != nil {
		return &InputError{Field: "smtp-port", Flag: "--smtp-port", Msg: err.Error()}
	}
	return nil
}
