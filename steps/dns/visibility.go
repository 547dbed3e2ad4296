package dns

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// Visibility is one record's state in public DNS while SES verifies.
type Visibility struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Expected []string `json:"expected"`
	Observed []string `json:"observed"`
	// State is "visible", "missing", "different" or "unknown".
	State string `json:"state"`
}

// Observe looks up each record through r, concurrently and each bounded
// by DefaultLookupTimeout, and says whether public DNS shows what SES
// needs: "visible", "missing", "different" or "unknown" (no resolver, or
// the lookup failed). A nil resolver gives "unknown" for every record.
func Observe(ctx context.Context, r Resolver, records []Desired) []Visibility {
	out := make([]Visibility, len(records))
	var wg sync.WaitGroup
	for i, rec := range records {
		out[i] = Visibility{Name: rec.Name, Type: rec.Type, Expected: rec.Values, State: "unknown"}
		if r == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			lctx, cancel := context.WithTimeout(ctx, DefaultLookupTimeout)
			defer cancel()
			got, err := r.Lookup(lctx, rec.Name, rec.Type)
			if err != nil {
				return
			}
			out[i].Observed = got
			out[i].State = visibleState(rec, got)
		}()
	}
	wg.Wait()
	return out
}

// visibleState compares what public DNS shows with a desired record, the
// way SES would: a merged TXT set counts when it holds our value (SPF: an
// SPF that includes amazonses.com; DMARC: any DMARC policy).
func visibleState(rec Desired, got []string) string {
	if len(got) == 0 {
		return "missing"
	}
	norm := func(v string) string {
		switch rec.Type {
		case "CNAME":
			return NormName(v)
		case "MX":
			return NormMX(v)
		}
		return strings.TrimSpace(v)
	}
	var obs []string
	for _, g := range got {
		obs = append(obs, norm(g))
	}
	switch rec.Purpose {
	case PurposeMailFromSPF:
		for _, g := range obs {
			if isSPF(g) && spfIncludesSES(g) {
				return "visible"
			}
		}
		return "different"
	case PurposeDMARC:
		for _, g := range obs {
			if IsDMARC(g) {
				return "visible"
			}
		}
		return "different"
	}
	for _, want := range rec.Values {
		if !slices.Contains(obs, norm(want)) {
			return "different"
		}
	}
	if rec.Type == "MX" && len(obs) != 1 {
		return "different"
	}
	return "visible"
}
