package awssim

// STS over awsQuery: GetCallerIdentity, the call sesame makes first to learn
// the account.

func init() { routers["sts"] = stsRoute }

func stsRoute(s *Sim, r *request) (string, func() (reply, *apiError)) {
	op := first(r.Form["Action"])
	if op != "GetCallerIdentity" {
		return op, nil
	}
	return op, func() (reply, *apiError) {
		u := s.callerUser(r)
		return queryReply(stsNS, op, struct {
			Arn     string `xml:"Arn"`
			UserID  string `xml:"UserId"`
			Account string `xml:"Account"`
		}{u.ARN, u.ID, s.opts.AccountID})
	}
}
