package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
)

// completeValues registers the values the shell completes for the flags
// that take one of a few: the SES regions with an SMTP endpoint, the mail
// types and the languages SES answers in.
func completeValues(cmd *cobra.Command) {
	fixed := func(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values, cobra.ShellCompDirectiveNoFileComp
		}
	}
	for flag, values := range map[string][]string{
		"region":           ses.SMTPRegions(),
		"mail-type":        {"TRANSACTIONAL", "MARKETING"},
		"contact-language": {"EN", "JA"},
	} {
		if cmd.Flags().Lookup(flag) != nil {
			_ = cmd.RegisterFlagCompletionFunc(flag, fixed(values...))
		}
	}
}

// noArgsSuggesting is cobra.NoArgs for a root command with subcommands:
// an unknown word is refused with the commands it may have meant
// ("stauts": did you mean status?).
func noArgsSuggesting(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "\nDid you mean " + strings.Join(s, " or ") + "?"
	}
	return exitWith(exitInput, fmt.Errorf("%s\nRun '%s --help' for usage.", msg, c.CommandPath()))
}

// withSavedOut lets `sesame postfix` find --out in the saved setups when
// neither the flag nor SESAME_OUT gives it: the most recent setup (of
// --region, when given) that has an output directory, said on stderr.
func withSavedOut(cmd *cobra.Command, s *ioStreams, getenv func(string) string) {
	cmd.PreRunE = func(c *cobra.Command, _ []string) error {
		if f := c.Flags().Lookup("out"); f == nil || f.Value.String() != "" {
			return nil
		}
		saved, err := state.Store{Dir: stateDirOr("", getenv)}.List()
		if err != nil {
			return nil // the command says --out is required
		}
		region := ""
		if f := c.Flags().Lookup("region"); f != nil {
			region = f.Value.String()
		}
		for _, sv := range saved {
			if sv.Answers.OutDir == "" || (region != "" && sv.Region != region) {
				continue
			}
			if err := c.Flags().Set("out", sv.Answers.OutDir); err != nil {
				return err
			}
			fmt.Fprintf(s.ErrOut, "sesame: --out %s (the saved setup of %s in %s)\n", sv.Answers.OutDir, sv.Domain, sv.Region)
			return nil
		}
		return nil
	}
}
