package main

import (
	"github.com/spf13/cobra"
)

// newCompletionCmd prints shell completion scripts.
func newCompletionCmd(root *cobra.Command, s *ioStreams) *cobra.Command {
	root.CompletionOptions.DisableDefaultCmd = true
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script",
		Example: `  sesame completion bash > /etc/bash_completion.d/sesame
  sesame completion zsh > "${fpath[1]}/_sesame"
  sesame completion fish > ~/.config/fish/completions/sesame.fish`,
		Args:      cobra.ExactValidArgs(1),
		ValidArgs: []string{"bash", "zsh", "fish"},
		RunE: func(_ *cobra.Command, args []string) error {
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(s.Out, true)
			case "zsh":
				return root.GenZshCompletion(s.Out)
			default:
				return root.GenFishCompletion(s.Out, true)
			}
		},
	}
}
