package ses

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
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

// LooksLikeSMTPPassword reports whether s has the shape of a version 4
// SES SMTP password: 44 base64 characters (33 bytes) starting with B, the
// encoding of the 0x04 version byte SMTPPassword puts first.
func LooksLikeSMTPPassword(s string) bool { return len(s) == 44 && strings.HasPrefix(s, "B") }

// LooksLikeAccessKeyID reports whether s has the shape of an IAM access key
// id, the SES SMTP user name: 20 upper-case characters starting with AKIA
// (a long-term key) or ASIA (a temporary one, which SES SMTP refuses).
func LooksLikeAccessKeyID(s string) bool {
	return len(s) == 20 && (strings.HasPrefix(s, "AKIA") || strings.HasPrefix(s, "ASIA")) && strings.ToUpper(s) == s
}
