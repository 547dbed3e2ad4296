package ses

import "strings"

// The AWS partitions sesame can meet. An ARN's second field names its
// partition ("arn:aws-us-gov:iam::…"), and IAM refuses a policy whose
// resource ARNs name another partition than its own with
// MalformedPolicyDocument (IAM User Guide, "IAM identifiers", section
// "IAM ARNs": "partition … aws, aws-cn, aws-us-gov").
const (
	PartitionAWS      = "aws"
	PartitionChina    = "aws-cn"
	PartitionGovCloud = "aws-us-gov"
)

// PartitionOfARN returns the partition an ARN names ("aws" in
// "arn:aws:iam::123456789012:user/x"), or "" when s is not an ARN. sesame
// takes the partition from the caller's ARN (STS GetCallerIdentity), so
// every ARN it builds is in the partition it runs in.
func PartitionOfARN(s string) string {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" || parts[1] == "" {
		return ""
	}
	return parts[1]
}

// PartitionOfRegion returns the partition a region belongs to (AWS General
// Reference, "AWS service endpoints": GovCloud regions are us-gov-*, China's
// cn-*). It is the fallback where no caller ARN is known (sesame policy
// without credentials, the simulator).
func PartitionOfRegion(region string) string {
	switch r := strings.ToLower(region); {
	case strings.HasPrefix(r, "us-gov-"):
		return PartitionGovCloud
	case strings.HasPrefix(r, "cn-"):
		return PartitionChina
	}
	return PartitionAWS
}
