// Package ses holds pure facts about Amazon SES that sesame needs: which
// regions have an SMTP endpoint, the SMTP and feedback host names of a
// region, where Easy DKIM records point, how an SMTP password is derived
// from an IAM secret access key, and the send-only IAM policy the SMTP user
// gets (its document and names).
//
// It is a leaf: it knows nothing of the wizard and never imports package
// steps, so the wizard, the simulator (steps/awssim) and the command line
// can all share one source for each fact.
package ses
