package main

import "testing"

// safetyCase is one way sesame could damage what it did not make, or reach
// AWS with input it should have refused; run drives the built binary
// against sesame-sim (or a stand-in) and fails if the damage happens.
type safetyCase struct {
	name string
	run  func(t *testing.T)
}

// safetyCases are issue 10's cases, one row each, in the order;
// the functions live in e2e_safety_<area>_test.go.
var safetyCases = []safetyCase{
	// Directories and files that are not sesame's
	{"an existing 0755 --out (root's, like / or /etc/postfix) is used as it is, never chmod'ed", safetyDirsOutKeepsMode},
	{"a world-writable --out (1777, like /tmp) is refused before any AWS request and keeps its mode", safetyDirsOutWorldWritableRefused},
	{"an --out owned by another user is refused before any AWS request", safetyDirsOutOtherUserRefused},
	{"--out through a symlink leaves the directory behind it as it was", safetyDirsOutSymlinkKeepsTarget},
	{"an existing 0755 --state-dir is used as it is, never chmod'ed", safetyDirsStateDirKeepsMode},
	{"a world-writable --state-dir is refused before any AWS request and keeps its mode", safetyDirsStateDirWorldWritableRefused},
	{"a foreign JSON at the state path is refused, not overwritten", safetyDirsForeignStateRefused},
	{"a .lock that is a symlink never has its target truncated", safetyDirsSymlinkLockRefused},
	{"a leftover .sasl_passwd.tmp-* holding a password is removed on the next run", safetyDirsStaleTempRemoved},

	// Operator files, --out, and the generated script run as root
	{"an operator's main.cf.snippet and apply-postfix.sh in --out are conflicts, kept byte for byte, before any AWS write", safetyRelayOperatorFilesConflict},
	{"sasl_passwd keeps another relay's entry on the first run and on a rerun, and a line added between them", safetyRelaySASLPasswdMerged},
	{"--out naming a regular file is refused with exit 2 before any AWS write", safetyRelayOutIsFile},
	{"a --postfix-dir with a newline is refused with exit 2 before any AWS request", safetyRelayPostfixDirNewline},

	// Input checked before the first write; answers that are saved
	{"invalid punycode in --domain is refused with exit 2 and no AWS request", safetyInputBadPunycode},
	{"a mixed-script look-alike domain is set up only when --confirm-domain names it", safetyInputLookalikeNeedsConfirming},
	{"a look-alike domain is asked about on a terminal", safetyInputLookalikeAsked},
	{"bad flag values are refused with exit 2 naming the flag, before any AWS request", safetyInputBadFlags},
	{"every SESAME_* variable with a bad value is refused in words, naming it, before any AWS request", safetyInputBadEnv},
	{"answers given only to --dry-run are not reused by the next real run", safetyInputDryRunAnswersNotSaved},
	{"a --zone-id that does not exist is never saved, and --zone-id \"\" clears a saved one", safetyInputFailedZoneIDNotSaved},
	{"saved answers never cross accounts: another account's --out is not taken", safetyInputAnswersStayInAccount},
	{"two accounts never share the default --out", safetyInputDefaultOutPerAccount},

	// DNS: planned before the first write, never weakening what is there
	{"a --zone-id that does not exist is refused before any AWS write", safetyDNSUnknownZoneID},
	{"two public hosted zones of the domain's name are refused before any AWS write, both ids named", safetyDNSTwoZones},
	{"a conflict at the MAIL FROM name stops the run before any AWS write, and --dry-run shows it", safetyDNSMailFromConflict},
	{"--dmarc never weakens the organizational domain's DMARC policy", safetyDNSDMARCNotWeakened},
	{"MAIL FROM records go to the delegated child zone, never below the cut in the parent", safetyDNSDelegatedChild},
	{"a lost ChangeResourceRecordSets answer is recognised as done, not blamed on someone else", safetyDNSLostChangeAnswer},
	{"existing TXT values with quotes, backslashes and split strings are kept byte for byte", safetyDNSTXTKept},

	// Access keys: deleted only when sesame can prove it made them
	{"a lost CreateUser answer still leaves a user sesame knows by its tags: the key it made and never wrote is deleted, one key remains", safetyKeysLostCreateUserAnswer},
	{"a colleague's key that appears while sesame creates its own is kept", safetyKeysColleagueKeyDuringCreate},
	{"a colleague's key made minutes after sesame's recorded intent is kept and shown with its age and last use", safetyKeysColleagueKeyAfterIntent},
	{"at IAM's two-key limit with keys sesame cannot prove, --no-input exits 2 naming --replace-key and the keys", safetyKeysLimitNamesReplaceKey},
	{"the key of a sasl_passwd sesame wrote (an installed relay) is kept when sesame runs with another --out", safetyKeysInstalledRelayKeyKept},
	{"one domain set up in two regions keeps both regions' send permission and both keys", safetyKeysTwoRegions},

	// Calls that never answer, endpoints that lack an API
	{"an AWS call that never answers ends the run with exit 1 and what to do", safetyCallsSilentEndpointEnds},
	{"an answer that never comes is retried and the run completes", safetyCallsHungAnswerRetried},
	{"an endpoint answering HTTP 404 is named as not serving the API, not blamed on the network", safetyCallsEndpoint404Named},
	{"a bad SESAME_AWS_CALL_TIMEOUT is refused with exit 2 before any request", safetyCallsBadCallTimeout},
}

// TestNeverDamage runs every safety case, one subtest each. The rows name
// what must never happen; each function says how it is provoked. Each row
// starts its own sesame-sim and uses its own directories, so the rows run
// in parallel.
func TestNeverDamage(t *testing.T) {
	t.Parallel()
	for _, c := range safetyCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t)
		})
	}
}
