package ses

import (
	"errors"
	"fmt"
	"slices"
)

// DefaultSMTPPort is the SES SMTP port sesame relays through (STARTTLS);
// a port left unset (0) means this one.
const DefaultSMTPPort = 587

// smtpPorts are the ports SES SMTP listens on for relays: STARTTLS on 587
// and 2587, TLS from the first byte ("wrapper mode") on 465 and 2465. Port
// 25 works too but EC2 throttles it, so sesame does not offer it.
var smtpPorts = []int{587, 2587, 465, 2465}

// MailboxSimulatorSuccess is SES's mailbox simulator address that accepts
// every message, even in the sandbox.
const MailboxSimulatorSuccess = "success@simulator.amazonses.com"

// SMTPPortsText names the SES SMTP ports with their TLS modes, for flag help and
// messages.
const SMTPPortsText = "587 or 2587 (STARTTLS), 465 or 2465 (TLS wrapper mode)"

// PortOrDefault is port, or DefaultSMTPPort when port is 0 (unset).
func PortOrDefault(port int) int {
	if port == 0 {
		return DefaultSMTPPort
	}
	return port
}

// ImplicitTLS reports whether an SES SMTP port speaks TLS from the first
// byte (465, 2465: "wrapper mode") rather than upgrading with STARTTLS.
func ImplicitTLS(port int) bool { return port == 465 || port == 2465 }

// CheckSMTPPort says, in the operator's words, why port is not one of
// the SES SMTP ports; nil when it is. The caller names the flag that set it.
func CheckSMTPPort(port int) error {
	if slices.Contains(smtpPorts, port) {
		return nil
	}
	if port == 25 {
		return errors.New("port 25 is throttled on EC2 and often blocked elsewhere; use " + SMTPPortsText)
	}
	return fmt.Errorf("%d is not an SES SMTP port for a relay; use %s", port, SMTPPortsText)
}
