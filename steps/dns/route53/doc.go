// Package route53 is the Amazon Route 53 dns.Provider: it finds hosted
// zones by name and id, lists record sets with as few calls as Route 53's
// listing order allows, submits one atomic change batch per zone, and
// follows a change until it is INSYNC. It works over awsapi.Route53, the
// narrow subset of the SDK client sesame uses (exact SDK signatures, so
// *route53.Client, the read cache and the test fakes all satisfy it).
//
// It never imports package steps: its errors are *Error, naming the IAM
// action and the resource, which the wizard explains to the operator.
package route53
