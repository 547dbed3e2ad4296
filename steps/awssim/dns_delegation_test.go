package awssim

import "testing"

// A name below an NS delegation is served by the zone delegated to (when
// the account has it, with those name servers), never by the parent; a
// name delegated outside the account is served by nobody here; a child
// zone the parent does not delegate to is not seen.
func TestServingZoneFollowsDelegations(t *testing.T) {
	s := New(Options{})
	err := s.ApplySeed(Seed{Zones: []SeedZone{
		{Name: "shop.example", Records: []RecordSet{
			{Name: "mail.shop.example", Type: "NS", TTL: 300, Values: []string{"ns1.child.example.", "ns2.child.example."}},
			{Name: "mail.shop.example", Type: "MX", TTL: 300, Values: []string{"10 parent.example."}},
			{Name: "away.shop.example", Type: "NS", TTL: 300, Values: []string{"ns.elsewhere.example."}},
		}},
		{Name: "mail.shop.example", NameServers: []string{"ns1.child.example", "ns2.child.example"}, Records: []RecordSet{
			{Name: "mail.shop.example", Type: "MX", TTL: 300, Values: []string{"10 child.example."}},
		}},
		{Name: "lone.shop.example"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, zone, cut string
	}{
		{"www.shop.example", "shop.example.", ""},
		{"mail.shop.example", "mail.shop.example.", ""},
		{"x.mail.shop.example", "mail.shop.example.", ""},
		{"a.away.shop.example", "", "away.shop.example."},
		{"lone.shop.example", "shop.example.", ""},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tt := range tests {
		z, cut, _ := s.servingZoneFor(tt.name)
		got := ""
		if z != nil {
			got = z.Name
		}
		if got != tt.zone || cut != tt.cut {
			t.Errorf("servingZoneFor(%s) = %q cut %q, want %q cut %q", tt.name, got, cut, tt.zone, tt.cut)
		}
	}
	if mx, _, _ := s.lookupPublic("mail.shop.example", "MX"); len(mx) != 1 || mx[0] != "10 child.example." {
		t.Errorf("MX at mail.shop.example seen as %q, want the child zone's", mx)
	}
}
