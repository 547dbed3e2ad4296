package dns

// Unexported helpers the external tests (package dns_test, which may
// import dns/route53 and the Route 53 fake) check the planner with.
var (
	DisplayValues = displayValues
	IsSPF         = isSPF
	AddSPFInclude = addSPFInclude
)
