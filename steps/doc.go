// Package steps is sesame's engine: the steps that take a domain from nothing
// to "verified in SES with SMTP credentials on disk", the runner that drives
// them, and the saved answers that let an operator stop and resume.
//
// # The Step contract
//
// Every step is level-based and idempotent:
//
//   - Check reads AWS (never writes) and reports where things stand: Done,
//     Todo, Pending, Skipped or Failed, with a detail in the operator's words.
//   - Plan says what Apply would change, without changing anything. The
//     runner shows it and asks for approval before Apply.
//   - Apply makes the change. Running it twice makes no second change: it
//     reads before it writes, and treats an "already exists" race as success.
//
// # The run
//
// Runner.Run takes the steps in order through Check, Plan, approval and
// Apply, with two phases of its own: right after the account step's Check
// it binds the run to the setup (SetupBinder, Env.Bind: the saved record is
// loaded, the setup's lock taken and its state written), and right before
// the first Apply it runs every later step's Preflight. What the operator
// decides while the run asks lands in Env.Decisions; Options keep the
// switches the operator gave.
//
// Resuming means checking again: AWS is the truth, and the state file keeps
// only what AWS cannot tell (the operator's answers, the ids sesame created,
// and where its files are).
//
// `sesame remove` runs RemoveSteps through the same Runner: each step
// takes back one kind of thing sesame made (its entry in Postfix, the SMTP
// user, DNS values, the SES identity, the files) while it is as sesame left
// it, and the saved setup goes last, so a stopped removal resumes like the
// wizard does; without a saved setup the steps only look (RemoveUnsaved).
//
// This package has no terminal code at all: it never imports bubbletea,
// lipgloss or huh. Front ends (the TUI, plain lines, JSON) receive Events
// from the Runner and answer questions through a Prompter.
package steps
