package awsapi

import (
	"encoding/json"
	"slices"
	"strings"
)

// operatorActions is every AWS action sesame's steps call, as IAM names
// it. The policy test checks that each action named in a step's source
// (the op of an Explain call) is here, and that the policy grants all of
// these.
var operatorActions = []string{
	"sts:GetCallerIdentity",
	"ses:GetAccount", "ses:PutAccountDetails",
	"ses:GetEmailIdentity", "ses:CreateEmailIdentity", "ses:DeleteEmailIdentity",
	"ses:PutEmailIdentityMailFromAttributes", "ses:PutEmailIdentityDkimSigningAttributes",
	"route53:ListHostedZonesByName", "route53:GetHostedZone", "route53:ListResourceRecordSets",
	"route53:ChangeResourceRecordSets", "route53:GetChange",
	"iam:GetUser", "iam:CreateUser", "iam:TagUser", "iam:PutUserPolicy", "iam:GetUserPolicy",
	"iam:ListAccessKeys", "iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:GetAccessKeyLastUsed",
	"iam:UpdateAccessKey",
	"iam:ListUserPolicies", "iam:DeleteUserPolicy", "iam:DeleteUser",
	"iam:SimulatePrincipalPolicy",
}

// SMTPUserPrefix starts the default SMTP user's name; the operator policy
// scopes its IAM permissions to users whose names start with it.
const SMTPUserPrefix = "ses-smtp-"

type policyStatement struct {
	Sid      string   `json:"Sid"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

// operatorStatements groups operatorActions by the narrowest resource IAM
// lets each be scoped to. STS and the SES v2 account and identity calls
// are granted on "*": GetAccount and PutAccountDetails have no resource,
// and the identity is created by the same run (its ARN is not known to the
// operator's administrator in advance). ListHostedZonesByName is a list
// action and takes no resource either.
func operatorStatements(partition, smtpUser string) []policyStatement {
	pick := func(prefix string, only ...string) []string {
		var out []string
		for _, a := range operatorActions {
			if strings.HasPrefix(a, prefix) && (len(only) == 0 || slices.Contains(only, a)) {
				out = append(out, a)
			}
		}
		return out
	}
	return []policyStatement{
		{Sid: "SesameWhoAmI", Effect: "Allow", Action: pick("sts:"), Resource: []string{"*"}},
		{Sid: "SesameSES", Effect: "Allow", Action: pick("ses:"), Resource: []string{"*"}},
		{Sid: "SesameFindHostedZone", Effect: "Allow", Action: pick("route53:", "route53:ListHostedZonesByName"), Resource: []string{"*"}},
		{Sid: "SesameDNSRecords", Effect: "Allow",
			Action:   pick("route53:", "route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets"),
			Resource: []string{"arn:" + partition + ":route53:::hostedzone/*"}},
		{Sid: "SesameDNSChangeStatus", Effect: "Allow", Action: pick("route53:", "route53:GetChange"), Resource: []string{"arn:" + partition + ":route53:::change/*"}},
		{Sid: "SesameSMTPUser", Effect: "Allow", Action: pick("iam:"), Resource: []string{"arn:" + partition + ":iam::*:user/" + smtpUser}},
	}
}

// OperatorPolicy returns OperatorPolicyFor the aws partition and users
// named ses-smtp-*, sesame's default.
func OperatorPolicy() string { return OperatorPolicyFor("aws", "") }

// OperatorPolicyFor returns the minimal IAM policy (pretty JSON) that the
// operator running sesame needs: every action the steps call, each scoped
// to the narrowest resource IAM allows, with ARNs in partition ("aws",
// "aws-us-gov", "aws-cn": IAM refuses another partition's ARNs with
// MalformedPolicyDocument; IAM User Guide, "IAM identifiers", "IAM
// ARNs"). The IAM permissions cover the user smtpUser names, or, when it
// is empty, users named ses-smtp-*, sesame's default.
func OperatorPolicyFor(partition, smtpUser string) string {
	if partition == "" {
		partition = "aws"
	}
	if smtpUser == "" {
		smtpUser = SMTPUserPrefix + "*"
	}
	doc := policyDocument{Version: "2012-10-17", Statement: operatorStatements(partition, smtpUser)}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil { // a fixed struct of strings always marshals
		panic(err)
	}
	return string(out) + "\n"
}
