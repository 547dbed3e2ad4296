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
	"ses:PutEmailIdentityMailFromAttributes",
	"route53:ListHostedZonesByName", "route53:GetHostedZone", "route53:ListResourceRecordSets",
	"route53:ChangeResourceRecordSets", "route53:GetChange",
	"iam:GetUser", "iam:CreateUser", "iam:TagUser", "iam:PutUserPolicy", "iam:GetUserPolicy",
	"iam:ListAccessKeys", "iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:GetAccessKeyLastUsed",
	"iam:ListUserPolicies", "iam:DeleteUserPolicy", "iam:DeleteUser",
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
func operatorStatements() []policyStatement {
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
			Resource: []string{"arn:aws:route53:::hostedzone/*"}},
		{Sid: "SesameDNSChangeStatus", Effect: "Allow", Action: pick("route53:", "route53:GetChange"), Resource: []string{"arn:aws:route53:::change/*"}},
		{Sid: "SesameSMTPUser", Effect: "Allow", Action: pick("iam:"), Resource: []string{"arn:aws:iam::*:user/" + SMTPUserPrefix + "*"}},
	}
}

// OperatorPolicy returns the minimal IAM policy (pretty JSON) that the
// operator running sesame needs: every action the steps call, each scoped
// to the narrowest resource IAM allows. The IAM permissions cover users
// named ses-smtp-*, sesame's default; an operator who passes another
// --smtp-user widens that statement's resource to the user's ARN.
func OperatorPolicy() string {
	doc := policyDocument{Version: "2012-10-17", Statement: operatorStatements()}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil { // a fixed struct of strings always marshals
		panic(err)
	}
	return string(out) + "\n"
}
