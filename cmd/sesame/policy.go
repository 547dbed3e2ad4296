package main

import (
	"fmt"
	"slices"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/spf13/cobra"
)

func newPolicyCmd(s *ioStreams) *cobra.Command {
	var smtpUser, region, partition string
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Print the minimal IAM policy the operator running sesame needs",
		Long: `policy prints an IAM policy document with every action sesame's steps call,
scoped where IAM allows. Attach it to the user or role you run sesame as.

Its IAM statement covers users named ses-smtp-* (sesame's default SMTP user
names); pass --smtp-user when the wizard will use another name. Its ARNs are
in the partition of --region (arn:aws-us-gov: for us-gov-*, arn:aws-cn: for
cn-*), or of --partition: IAM refuses another partition's ARNs.`,
		Example: `  sesame policy > sesame-policy.json
  sesame policy --smtp-user mail-relay --region us-gov-west-1
  aws iam put-user-policy --user-name ops --policy-name sesame --policy-document file://sesame-policy.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if smtpUser != "" {
				if err := steps.ValidateUserName(smtpUser); err != nil {
					return exitWith(exitInput, err)
				}
			}
			p := partition
			known := []string{ses.PartitionAWS, ses.PartitionGovCloud, ses.PartitionChina}
			switch {
			case p != "" && !slices.Contains(known, p):
				return exitWith(exitInput, &steps.InputError{Field: "partition", Flag: "--partition",
					Msg: fmt.Sprintf("%q is not an AWS partition: use aws, aws-us-gov or aws-cn (the second field of your ARNs)", p)})
			case p == "":
				p = ses.PartitionOfRegion(region)
			}
			_, err := fmt.Fprintln(s.Out, awsapi.OperatorPolicyFor(p, smtpUser))
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&smtpUser, "smtp-user", "", "the SMTP user's IAM name the wizard will use (default: any ses-smtp-* user)")
	f.StringVar(&region, "region", "", "the SES region: its partition is the policy's (us-gov-* is aws-us-gov, cn-* aws-cn)")
	f.StringVar(&partition, "partition", "", "the AWS partition (aws, aws-us-gov, aws-cn); default: --region's")
	return cmd
}
