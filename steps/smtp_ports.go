package steps

// The SES SMTP port facts the wizard checks its flags against (they stay
// here, where they were with the Postfix code, until they join steps/ses).

import (
	"fmt"
	"slices"

	"github.com/sesame-tool/sesame/steps/mta"
)

const (
	// DefaultSMTPPort is the SES SMTP port sesame relays through (STARTTLS).
	DefaultSMTPPort = 587
	// MailboxSimulatorSuccess is SES's mailbox simulator address that
	// accepts every message, even in the sandbox: the default --test-to.
	MailboxSimulatorSuccess = "success@simulator.amazonses.com"
)

// smtpPorts are the ports SES SMTP listens on for relays: STARTTLS on 587
// and 2587, TLS from the first byte ("wrapper mode") on 465 and 2465. Port
// 25 works too but EC2 throttles it, so sesame does not offer it.
var smtpPorts = []int{587, 2587, 465, 2465}

// ValidateSMTPPort accepts the SES SMTP ports a relay can use.
func ValidateSMTPPort(port int) error {
	if slices.Contains(smtpPorts, port) {
		return nil
	}
	msg := fmt.Sprintf("%d is not an SES SMTP port for a relay; use 587 (STARTTLS, the default), 2587 (STARTTLS), 465 or 2465 (TLS wrapper mode)", port)
	if port == 25 {
		msg = "port 25 is throttled on EC2 and often blocked elsewhere; use 587 (STARTTLS, the default), 2587, 465 or 2465"
	}
	return &InputError{Field: "smtp-port", Flag: "--smtp-port", Msg: msg}
}

// WrapperMode reports whether a port speaks TLS from the first byte (465,
// 2465) rather than upgrading with STARTTLS.
func WrapperMode(port int) bool { return mta.WrapperMode(port) }
