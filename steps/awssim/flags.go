package awssim

import (
	"fmt"
	"strconv"
	"strings"
)

// Parsers for the knobs as sesame-sim's flags spell them.

// ParseFaults parses "throttle=0.25,5xx=0.1,drop=0.05". Each rate is
// between 0 and 1 and together they are at most 1; a kind may be left out;
// "" is no faults.
func ParseFaults(spec string) (Faults, error) {
	var f Faults
	if strings.TrimSpace(spec) == "" {
		return f, nil
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Faults{}, fmt.Errorf("faults: %q is not KIND=RATE (kinds: throttle, 5xx, drop)", part)
		}
		rate, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || rate < 0 || rate > 1 {
			return Faults{}, fmt.Errorf("faults: rate %q of %s must be a number from 0 to 1", v, k)
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if seen[k] {
			return Faults{}, fmt.Errorf("faults: %s given twice", k)
		}
		seen[k] = true
		switch k {
		case "throttle":
			f.Throttle = rate
		case "5xx":
			f.Server = rate
		case "drop":
			f.Drop = rate
		default:
			return Faults{}, fmt.Errorf("faults: unknown kind %q (kinds: throttle, 5xx, drop)", k)
		}
	}
	if sum := f.Throttle + f.Server + f.Drop; sum > 1 {
		return Faults{}, fmt.Errorf("faults: rates add up to %g, more than 1", sum)
	}
	return f, nil
}

// String renders f as ParseFaults reads it.
func (f Faults) String() string {
	var parts []string
	for _, p := range []struct {
		k string
		v float64
	}{{"throttle", f.Throttle}, {"5xx", f.Server}, {"drop", f.Drop}} {
		if p.v > 0 {
			parts = append(parts, p.k+"="+strconv.FormatFloat(p.v, 'g', -1, 64))
		}
	}
	return strings.Join(parts, ",")
}

// denyPrefixes are the IAM action prefixes of the simulated services.
var denyPrefixes = map[string]string{"iam": "iam", "sts": "sts", "route53": "route53", "ses": "ses", "sesv2": "ses"}

// ParseDeny parses "iam:CreateUser,ses:CreateEmailIdentity" into actions
// for Options.Deny. The service is the IAM action prefix (iam, sts,
// route53, ses; sesv2 is taken as ses); "" is no denials.
func ParseDeny(spec string) ([]string, error) {
	var out []string
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	for _, part := range strings.Split(spec, ",") {
		svc, action, ok := strings.Cut(strings.TrimSpace(part), ":")
		prefix := denyPrefixes[strings.ToLower(svc)]
		if !ok || prefix == "" || action == "" || strings.ContainsAny(action, " *:") {
			return nil, fmt.Errorf("deny: %q is not SERVICE:Action with SERVICE one of iam, sts, route53, ses (e.g. iam:CreateUser)", part)
		}
		out = append(out, prefix+":"+action)
	}
	return out, nil
}
