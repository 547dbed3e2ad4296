package dns

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
)

// Manual are the records to publish by hand when the domain has no hosted
// zone in the account.
type Manual struct {
	Records []Desired `json:"records"`
	// ZoneFile is the records as BIND zone-file lines.
	ZoneFile string `json:"zone_file"`
	// JSON is the records as a JSON document.
	JSON string `json:"json"`
	// Files are the records.zone and records.json files written, if any.
	Files []string `json:"files,omitempty"`
}

// NewManual renders the records for an operator whose DNS is not in a
// hosted zone of this account: the records themselves (for a table), BIND
// zone-file lines and a JSON document. Records are in the form
// DesiredRecords returns them.
func NewManual(records []Desired) *Manual {
	rs := append([]Desired(nil), records...)
	return &Manual{Records: rs, ZoneFile: ZoneFileLines(rs), JSON: recordsJSON(rs)}
}

// ZoneFileLines renders records as BIND zone-file lines with absolute
// names: "name. 1800 IN CNAME target.", TXT values quoted (in 255-byte
// strings), MX as "10 host.".
func ZoneFileLines(records []Desired) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 1, ' ', 0)
	for _, r := range records {
		for _, v := range r.Values {
			fmt.Fprintf(w, "%s\t%d\tIN\t%s\t%s\n", NormName(r.Name), r.TTL, r.Type, zoneFileValue(r.Type, v))
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
		return NormName(v)
	case "MX":
		return NormMX(v)
	}
	return v
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

func recordsJSON(records []Desired) string {
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
