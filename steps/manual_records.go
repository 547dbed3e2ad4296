package steps

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
)

// NewManualRecords renders the records for an operator whose DNS is not in
// a Route 53 zone of this account: the records themselves (for a table),
// BIND zone-file lines and a JSON document. Records are in the form
// DesiredRecords returns them.
func NewManualRecords(records []DNSRecord) *ManualRecords {
	rs := append([]DNSRecord(nil), records...)
	return &ManualRecords{Records: rs, ZoneFile: ZoneFileLines(rs), JSON: recordsJSON(rs)}
}

// ZoneFileLines renders records as BIND zone-file lines with absolute
// names: "name. 1800 IN CNAME target.", TXT values quoted (in 255-byte
// strings), MX as "10 host.".
func ZoneFileLines(records []DNSRecord) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 1, ' ', 0)
	for _, r := range records {
		for _, v := range r.Values {
			fmt.Fprintf(w, "%s\t%d\tIN\t%s\t%s\n", normName(r.Name), r.TTL, r.Type, zoneFileValue(r.Type, v))
		}
	}
	_ = w.Flush()
	return b.String()
}

func zoneFileValue(typ, v string) string {
	switch typ {
	case "TXT":
		return TXTQuote(v)
	case "CNAME":
		return normName(v)
	case "MX":
		return normMX(v)
	}
	return v
}

// FormatRecordsTable renders records as a plain NAME TYPE VALUE table, one
// value per line, for front ends without their own table.
func FormatRecordsTable(records []DNSRecord) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tTYPE\tVALUE\tPURPOSE")
	for _, r := range records {
		for _, v := range r.Values {
			if r.Type == "TXT" {
				v = `"` + v + `"`
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.Name, r.Type, v, r.Purpose)
		}
	}
	_ = w.Flush()
	return b.String()
}

// manualRecord is one record of the JSON document: the shape most DNS
// hosts' APIs and the AWS console's "download records" use.
type manualRecord struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	TTL     int64  `json:"ttl"`
	Value   string `json:"value"`
	Purpose string `json:"purpose"`
}

func recordsJSON(records []DNSRecord) string {
	list := []manualRecord{}
	for _, r := range records {
		for _, v := range r.Values {
			list = append(list, manualRecord{Name: r.Name, Type: r.Type, TTL: r.TTL, Value: v, Purpose: r.Purpose})
		}
	}
	out, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		// Strings and ints always marshal; keep the signature simple.
		return "[]"
	}
	return string(out) + "\n"
}
