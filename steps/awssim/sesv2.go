package awssim

// sesRegion is the SES state of one region: identities and the account.
type sesRegion struct{}
