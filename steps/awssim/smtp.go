package awssim

// smtpState is the simulated SMTP endpoint's state.
type smtpState struct{}
