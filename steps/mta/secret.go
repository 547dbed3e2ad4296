package mta

import "fmt"

// Secret is a string that does not print: fmt, %v, %s and JSON all show a
// mask. Reveal returns the value, for the relay files and an explicit reveal.
type Secret string

const secretMask = "••••••••"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String returns a mask, never the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return secretMask
}

// GoString returns a mask, never the value.
func (s Secret) GoString() string { return s.String() }

// Format masks the secret for every fmt verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalJSON never writes the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`""`), nil }
