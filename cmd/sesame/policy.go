package main

import (
	"fmt"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/spf13/cobra"
)

func newPolicyCmd(s *ioStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "policy",
		Short: "Print the minimal IAM policy the operator running sesame needs",
		Long: `policy prints an IAM policy document with every action sesame's steps call,
scoped where IAM allows. Attach it to the user or role you run sesame as.`,
		Example: `  sesame policy > sesame-policy.json
  aws iam put-user-policy --user-name ops --policy-name sesame --policy-document file://sesame-policy.json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(s.Out, awsapi.OperatorPolicy())
			return err
		},
	}
}
