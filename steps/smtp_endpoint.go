package steps

import (
	"cmp"
	"crypto/x509"
	"errors"
	"net"
	"strconv"

	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/smtpcheck"
)

// SMTPEndpoint is the login test's endpoint: --smtp-endpoint, or the SES
// SMTP host of the region on the relay's port.
func SMTPEndpoint(opts Options, region string) string {
	return cmp.Or(opts.SMTPEndpoint, net.JoinHostPort(ses.SMTPHost(region), strconv.Itoa(smtpPortOf(opts))))
}

// smtpRoots is smtpcheck.Roots for --smtp-ca: a file with no certificate
// in it is the operator's input at fault, an *InputError.
func smtpRoots(caFile string) (*x509.CertPool, error) {
	roots, err := smtpcheck.Roots(caFile)
	var np *smtpcheck.NoPEMError
	if errors.As(err, &np) {
		return nil, &InputError{Field: "smtp-ca", Flag: "--smtp-ca", Msg: np.Error()}
	}
	return roots, err
}
