package ses

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// SMTPPassword derives the SES SMTP password (version 4) of an IAM secret
// access key for one region. The password only works against that region's
// SMTP endpoint: the region is an input of the HMAC chain.
//
// The algorithm is AWS's (SES Developer Guide, "Obtaining SES SMTP
// credentials"): HMAC-SHA256 over "11111111", the region, "ses",
// "aws4_request" and "SendRawEmail", keyed first by "AWS4"+secret; then
// base64 of a 0x04 version byte followed by the 32-byte MAC.
func SMTPPassword(secretAccessKey, region string) string {
	sig := hmacSHA256([]byte("AWS4"+secretAccessKey), "11111111")
	for _, msg := range []string{region, "ses", "aws4_request", "SendRawEmail"} {
		sig = hmacSHA256(sig, msg)
	}
	return base64.StdEncoding.EncodeToString(append([]byte{0x04}, sig...))
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}
