package main

import (
	"fmt"

	"github.com/spf13/pflag"
)

// valueWords says what a flag of this type takes, for an answer it cannot
// parse: the operator reads this instead of strconv's or time's message.
func valueWords(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "bool":
		return "true or false"
	case "duration":
		return "a duration with its unit, such as 90s, 15m or 72h"
	case "int", "int64", "uint", "uint16":
		return "a whole number"
	case "stringSlice":
		return "a comma-separated list"
	default:
		return "a " + f.Value.Type()
	}
}

// badValue is the error for a value a flag (set on the command line, or
// by its SESAME_ variable when env is not "") cannot take.
func badValue(f *pflag.Flag, env, value string) error {
	if env != "" {
		return fmt.Errorf("%s=%q: --%s takes %s", env, value, f.Name, valueWords(f))
	}
	return fmt.Errorf("--%s %q: it takes %s", f.Name, value, valueWords(f))
}

// flagValueError rewrites pflag's "invalid argument" error, which carries
// strconv's or time's own text, into badValue's words; other errors pass.
func flagValueError(fs *pflag.FlagSet, err error) error {
	var name, value string
	if n, _ := fmt.Sscanf(err.Error(), "invalid argument %q for %q flag", &value, &name); n != 2 {
		return err
	}
	for _, prefix := range []string{"--", "-"} {
		if len(name) > len(prefix) && name[:len(prefix)] == prefix {
			name = name[len(prefix):]
			break
		}
	}
	// "-y, --yes": the long name is after the comma.
	for i := 0; i+2 < len(name); i++ {
		if name[i] == ',' {
			name = name[i+4:]
			break
		}
	}
	if f := fs.Lookup(name); f != nil {
		return badValue(f, "", value)
	}
	return err
}
