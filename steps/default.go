package steps

// Default returns the wizard's steps in order. Their ids are stable: they
// appear in --json, state files and tests.
func Default() []Step {
	return []Step{
		&Account{},
		&SMTPUser{},
		&Identity{},
		&DNS{},
		&InboundMX{},
		&Verification{},
		&Sandbox{},
		&Relay{},
	}
}
