package stepstest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// FakeRoute53 is a stateful in-memory Route 53 that keeps the semantics the
// DNS step relies on, so a test fails where real Route 53 would: a CREATE of
// an existing set fails, a DELETE must match the set exactly, a CNAME
// excludes every other type at its name (and is refused at the apex), a
// batch applies all or nothing and its errors are
// *r53types.InvalidChangeBatch with Messages, GetChange says PENDING before
// INSYNC, and both list calls paginate. It counts calls and can fail the
// next call of an operation. It satisfies awsapi.Route53. Safe for
// concurrent use.
type FakeRoute53 struct {
	mu      sync.Mutex
	zones   map[string]*fakeZone
	changes map[string]*fakeChange
	calls   map[string]int
	fail    map[string][]error
	nextID  int

	// PageSize is the most items a list call returns per page when the
	// request gives no MaxItems (Route 53's default is 100); tests set it
	// low to exercise pagination.
	PageSize int
	// PendingPolls is how many GetChange calls see PENDING before INSYNC.
	PendingPolls int
	// BeforeChange, when set, runs (without the fake's lock) at the start
	// of each ChangeResourceRecordSets call: tests use it to edit the zone
	// "concurrently", between the step's read and its write.
	BeforeChange func(f *FakeRoute53)
}

type fakeZone struct {
	id, name    string
	private     bool
	nameServers []string
	sets        map[setKey]r53types.ResourceRecordSet
}

type setKey struct{ name, typ string }

type fakeChange struct{ polls int }

// NewFakeRoute53 returns an empty account: no zones.
func NewFakeRoute53() *FakeRoute53 {
	return &FakeRoute53{
		zones:        map[string]*fakeZone{},
		changes:      map[string]*fakeChange{},
		calls:        map[string]int{},
		fail:         map[string][]error{},
		PageSize:     100,
		PendingPolls: 1,
	}
}

// fqdn is Route 53's stored form of a name: lower case, trailing dot.
func fqdn(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// AddZone creates a hosted zone (public unless private) and returns its id
// ("Z..." without the /hostedzone/ prefix). Public zones get four name
// servers unique to the zone, as Route 53 gives each zone its own
// delegation set; the zone starts with its SOA and NS sets, like a real one.
func (f *FakeRoute53) AddZone(name string, private bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := fmt.Sprintf("Z%05dFAKE", f.nextID)
	z := &fakeZone{id: id, name: fqdn(name), private: private, sets: map[setKey]r53types.ResourceRecordSet{}}
	for i := 1; i <= 4; i++ {
		z.nameServers = append(z.nameServers, fmt.Sprintf("ns-%d%d.awsdns-%02d.example.", f.nextID, i, f.nextID))
	}
	nsVals := make([]string, len(z.nameServers))
	copy(nsVals, z.nameServers)
	z.put(z.name, "NS", 172800, nsVals...)
	z.put(z.name, "SOA", 900, z.nameServers[0]+" awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400")
	f.zones[id] = z
	return id
}

// NameServers returns a zone's delegation set.
func (f *FakeRoute53) NameServers(zoneID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if z := f.zones[trimZoneID(zoneID)]; z != nil {
		return slices.Clone(z.nameServers)
	}
	return nil
}

func (z *fakeZone) put(name, typ string, ttl int64, values ...string) {
	rrs := make([]r53types.ResourceRecord, len(values))
	for i, v := range values {
		rrs[i] = r53types.ResourceRecord{Value: aws.String(v)}
	}
	z.sets[setKey{fqdn(name), strings.ToUpper(typ)}] = r53types.ResourceRecordSet{
		Name: aws.String(fqdn(name)), Type: r53types.RRType(strings.ToUpper(typ)),
		TTL: aws.Int64(ttl), ResourceRecords: rrs,
	}
}

// Put sets a record set directly, as an operator's earlier edit would,
// bypassing the API's checks and counters. Values are as Route 53 stores
// them: TXT quoted, MX "10 host.".
func (f *FakeRoute53) Put(zoneID, name, typ string, ttl int64, values ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.zones[trimZoneID(zoneID)].put(name, typ, ttl, values...)
}

// Values returns the values of a set, or nil when there is none.
func (f *FakeRoute53) Values(zoneID, name, typ string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zones[trimZoneID(zoneID)]
	if z == nil {
		return nil
	}
	s, ok := z.sets[setKey{fqdn(name), strings.ToUpper(typ)}]
	if !ok {
		return nil
	}
	return setValues(s)
}

// Sets returns every record set of a zone, sorted, as "name type v1 | v2"
// lines: a compact snapshot for before/after comparisons.
func (f *FakeRoute53) Sets(zoneID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zones[trimZoneID(zoneID)]
	if z == nil {
		return nil
	}
	var out []string
	for _, s := range z.sorted() {
		out = append(out, fmt.Sprintf("%s %s %s", aws.ToString(s.Name), s.Type, strings.Join(setValues(s), " | ")))
	}
	return out
}

func setValues(s r53types.ResourceRecordSet) []string {
	out := make([]string, len(s.ResourceRecords))
	for i, r := range s.ResourceRecords {
		out[i] = aws.ToString(r.Value)
	}
	return out
}

// Calls returns how many times op ("ChangeResourceRecordSets") was called.
func (f *FakeRoute53) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// Mutations returns how many calls could have changed the account.
func (f *FakeRoute53) Mutations() int { return f.Calls("ChangeResourceRecordSets") }

// FailNext makes the next call of op return err (queued: several calls
// fail in order). The call is counted but has no effect.
func (f *FakeRoute53) FailNext(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[op] = append(f.fail[op], err)
}

// enter counts a call and returns an injected error, if one is queued.
// Called with f.mu held.
func (f *FakeRoute53) enter(op string) error {
	f.calls[op]++
	if q := f.fail[op]; len(q) > 0 {
		f.fail[op] = q[1:]
		return q[0]
	}
	return nil
}

func trimZoneID(id string) string {
	if i := strings.LastIndex(id, "/"); i >= 0 {
		return id[i+1:]
	}
	return id
}

// reversedName is the sort key of ListHostedZonesByName and
// ListResourceRecordSets: labels reversed, "com.example.www".
func reversedName(name string) string {
	labels := strings.Split(strings.TrimSuffix(fqdn(name), "."), ".")
	slices.Reverse(labels)
	return strings.Join(labels, ".")
}

func (z *fakeZone) info() r53types.HostedZone {
	return r53types.HostedZone{
		Id: aws.String("/hostedzone/" + z.id), Name: aws.String(z.name),
		CallerReference:        aws.String("ref-" + z.id),
		Config:                 &r53types.HostedZoneConfig{PrivateZone: z.private},
		ResourceRecordSetCount: aws.Int64(int64(len(z.sets))),
	}
}

func (f *FakeRoute53) sortedZones() []*fakeZone {
	zs := make([]*fakeZone, 0, len(f.zones))
	for _, z := range f.zones {
		zs = append(zs, z)
	}
	sort.Slice(zs, func(i, j int) bool {
		a, b := reversedName(zs[i].name), reversedName(zs[j].name)
		if a != b {
			return a < b
		}
		return zs[i].id < zs[j].id
	})
	return zs
}

func (f *FakeRoute53) pageSize(max *int32) int {
	n := f.PageSize
	if max != nil && *max > 0 && int(*max) < n {
		n = int(*max)
	}
	if n <= 0 {
		n = 100
	}
	return n
}

// ListHostedZonesByName lists zones in reversed-label order starting at
// DNSName (and HostedZoneId), like Route 53: not an exact-match filter.
func (f *FakeRoute53) ListHostedZonesByName(_ context.Context, in *route53.ListHostedZonesByNameInput, _ ...func(*route53.Options)) (*route53.ListHostedZonesByNameOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ListHostedZonesByName"); err != nil {
		return nil, err
	}
	if in.HostedZoneId != nil && in.DNSName == nil {
		return nil, &r53types.InvalidInput{Message: aws.String("HostedZoneId requires DNSName")}
	}
	zs := f.sortedZones()
	start := 0
	if in.DNSName != nil {
		key, id := reversedName(*in.DNSName), trimZoneID(aws.ToString(in.HostedZoneId))
		start = sort.Search(len(zs), func(i int) bool {
			k := reversedName(zs[i].name)
			return k > key || k == key && zs[i].id >= id
		})
	}
	n := f.pageSize(in.MaxItems)
	out := &route53.ListHostedZonesByNameOutput{DNSName: in.DNSName, HostedZoneId: in.HostedZoneId, MaxItems: aws.Int32(int32(n))}
	for i := start; i < len(zs) && len(out.HostedZones) < n; i++ {
		out.HostedZones = append(out.HostedZones, zs[i].info())
	}
	if next := start + len(out.HostedZones); next < len(zs) {
		out.IsTruncated = true
		out.NextDNSName = aws.String(zs[next].name)
		out.NextHostedZoneId = aws.String(zs[next].id)
	}
	return out, nil
}

// GetHostedZone returns a zone and, for a public zone, its delegation set.
func (f *FakeRoute53) GetHostedZone(_ context.Context, in *route53.GetHostedZoneInput, _ ...func(*route53.Options)) (*route53.GetHostedZoneOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetHostedZone"); err != nil {
		return nil, err
	}
	z := f.zones[trimZoneID(aws.ToString(in.Id))]
	if z == nil {
		return nil, &r53types.NoSuchHostedZone{Message: aws.String("No hosted zone found with ID: " + aws.ToString(in.Id))}
	}
	out := &route53.GetHostedZoneOutput{HostedZone: ptr(z.info())}
	if !z.private {
		out.DelegationSet = &r53types.DelegationSet{NameServers: slices.Clone(z.nameServers)}
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }

func (z *fakeZone) sorted() []r53types.ResourceRecordSet {
	keys := make([]setKey, 0, len(z.sets))
	for k := range z.sets {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := reversedName(keys[i].name), reversedName(keys[j].name)
		if a != b {
			return a < b
		}
		return keys[i].typ < keys[j].typ
	})
	out := make([]r53types.ResourceRecordSet, len(keys))
	for i, k := range keys {
		out[i] = z.sets[k]
	}
	return out
}

// ListResourceRecordSets lists the sets starting at StartRecordName (and
// StartRecordType), in Route 53's order, with pagination.
func (f *FakeRoute53) ListResourceRecordSets(_ context.Context, in *route53.ListResourceRecordSetsInput, _ ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ListResourceRecordSets"); err != nil {
		return nil, err
	}
	z := f.zones[trimZoneID(aws.ToString(in.HostedZoneId))]
	if z == nil {
		return nil, &r53types.NoSuchHostedZone{Message: aws.String("No hosted zone found with ID: " + aws.ToString(in.HostedZoneId))}
	}
	if in.StartRecordType != "" && in.StartRecordName == nil {
		return nil, &r53types.InvalidInput{Message: aws.String("StartRecordType requires StartRecordName")}
	}
	all := z.sorted()
	start := 0
	if in.StartRecordName != nil {
		key, typ := reversedName(*in.StartRecordName), string(in.StartRecordType)
		start = sort.Search(len(all), func(i int) bool {
			k := reversedName(aws.ToString(all[i].Name))
			return k > key || k == key && string(all[i].Type) >= typ
		})
	}
	n := f.pageSize(in.MaxItems)
	out := &route53.ListResourceRecordSetsOutput{MaxItems: aws.Int32(int32(n))}
	for i := start; i < len(all) && len(out.ResourceRecordSets) < n; i++ {
		out.ResourceRecordSets = append(out.ResourceRecordSets, copySet(all[i]))
	}
	if next := start + len(out.ResourceRecordSets); next < len(all) {
		out.IsTruncated = true
		out.NextRecordName = all[next].Name
		out.NextRecordType = all[next].Type
	}
	return out, nil
}

func copySet(s r53types.ResourceRecordSet) r53types.ResourceRecordSet {
	s.ResourceRecords = slices.Clone(s.ResourceRecords)
	return s
}

// ChangeResourceRecordSets applies a batch atomically: every change is
// checked against the zone as the earlier changes of the batch left it,
// and any failure leaves the zone untouched.
func (f *FakeRoute53) ChangeResourceRecordSets(_ context.Context, in *route53.ChangeResourceRecordSetsInput, _ ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	if hook := f.BeforeChange; hook != nil {
		hook(f)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ChangeResourceRecordSets"); err != nil {
		return nil, err
	}
	z := f.zones[trimZoneID(aws.ToString(in.HostedZoneId))]
	if z == nil {
		return nil, &r53types.NoSuchHostedZone{Message: aws.String("No hosted zone found with ID: " + aws.ToString(in.HostedZoneId))}
	}
	if in.ChangeBatch == nil || len(in.ChangeBatch.Changes) == 0 {
		return nil, &r53types.InvalidInput{Message: aws.String("ChangeBatch must contain at least one change")}
	}
	work := make(map[setKey]r53types.ResourceRecordSet, len(z.sets))
	for k, v := range z.sets {
		work[k] = v
	}
	var msgs []string
	// A batch may DELETE a set and CREATE it anew (the way to replace a set
	// exactly), but not make the same action on one set twice.
	type touch struct {
		k setKey
		a r53types.ChangeAction
	}
	touched := map[touch]bool{}
	for _, c := range in.ChangeBatch.Changes {
		if c.ResourceRecordSet == nil {
			msgs = append(msgs, "a change has no ResourceRecordSet")
			continue
		}
		rs := copySet(*c.ResourceRecordSet)
		name := fqdn(aws.ToString(rs.Name))
		rs.Name = aws.String(name)
		k := setKey{name, string(rs.Type)}
		if touched[touch{k, c.Action}] {
			msgs = append(msgs, fmt.Sprintf("Tried to %s resource record set %s type %s more than once in a single change batch", strings.ToLower(string(c.Action)), strings.TrimSuffix(name, "."), rs.Type))
			continue
		}
		touched[touch{k, c.Action}] = true
		if name != z.name && !strings.HasSuffix(name, "."+z.name) {
			msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", name, z.name))
			continue
		}
		switch c.Action {
		case r53types.ChangeActionCreate, r53types.ChangeActionUpsert:
			if msg := validSet(rs); msg != "" {
				msgs = append(msgs, msg)
				continue
			}
			if _, exists := work[k]; exists && c.Action == r53types.ChangeActionCreate {
				msgs = append(msgs, fmt.Sprintf("Tried to create resource record set [name='%s', type='%s'] but it already exists", name, rs.Type))
				continue
			}
			if msg := cnameConflict(work, z.name, k); msg != "" {
				msgs = append(msgs, msg)
				continue
			}
			work[k] = rs
		case r53types.ChangeActionDelete:
			cur, exists := work[k]
			if !exists {
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set [name='%s', type='%s'] but it was not found", name, rs.Type))
				continue
			}
			if !sameSet(cur, rs) {
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set [name='%s', type='%s'] but the values provided do not match the current values", name, rs.Type))
				continue
			}
			delete(work, k)
		default:
			msgs = append(msgs, fmt.Sprintf("unknown action %q", c.Action))
		}
	}
	if len(msgs) > 0 {
		return nil, &r53types.InvalidChangeBatch{Messages: msgs, Message: aws.String(strings.Join(msgs, "; "))}
	}
	z.sets = work
	f.nextID++
	id := fmt.Sprintf("C%07dFAKE", f.nextID)
	f.changes[id] = &fakeChange{}
	return &route53.ChangeResourceRecordSetsOutput{ChangeInfo: &r53types.ChangeInfo{
		Id: aws.String("/change/" + id), Status: r53types.ChangeStatusPending, Comment: in.ChangeBatch.Comment,
	}}, nil
}

// validSet refuses the sets Route 53 refuses: no values, no TTL, several
// values in a CNAME, a TXT value that is not quoted.
func validSet(rs r53types.ResourceRecordSet) string {
	name := aws.ToString(rs.Name)
	switch {
	case len(rs.ResourceRecords) == 0:
		return fmt.Sprintf("RRSet %s type %s has no ResourceRecords", name, rs.Type)
	case rs.TTL == nil:
		return fmt.Sprintf("RRSet %s type %s has no TTL", name, rs.Type)
	case rs.Type == r53types.RRTypeCname && len(rs.ResourceRecords) > 1:
		return fmt.Sprintf("RRSet of type CNAME with DNS name %s has more than one value", name)
	}
	seen := map[string]bool{}
	for _, r := range rs.ResourceRecords {
		v := aws.ToString(r.Value)
		if seen[v] {
			return fmt.Sprintf("Duplicate Resource Record: '%s'", v)
		}
		seen[v] = true
		if rs.Type == r53types.RRTypeTxt && !(len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"') {
			return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '%s''", v)
		}
	}
	return ""
}

// cnameConflict applies CNAME exclusivity to a set about to be written.
func cnameConflict(work map[setKey]r53types.ResourceRecordSet, zone string, k setKey) string {
	if k.typ == "CNAME" {
		if k.name == zone {
			return fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s", k.name, zone)
		}
		for o := range work {
			if o.name == k.name && o.typ != "CNAME" {
				return fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone %s", k.name, zone)
			}
		}
		return ""
	}
	if _, ok := work[setKey{k.name, "CNAME"}]; ok {
		return fmt.Sprintf("RRSet of type %s with DNS name %s is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone %s", k.typ, k.name, zone)
	}
	return ""
}

// sameSet is DELETE's exact-match rule: same TTL, same values (in any order).
func sameSet(a, b r53types.ResourceRecordSet) bool {
	if aws.ToInt64(a.TTL) != aws.ToInt64(b.TTL) || len(a.ResourceRecords) != len(b.ResourceRecords) {
		return false
	}
	av, bv := setValues(a), setValues(b)
	sort.Strings(av)
	sort.Strings(bv)
	return slices.Equal(av, bv)
}

// GetChange reports PENDING for the first PendingPolls calls about a
// change, INSYNC after.
func (f *FakeRoute53) GetChange(_ context.Context, in *route53.GetChangeInput, _ ...func(*route53.Options)) (*route53.GetChangeOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetChange"); err != nil {
		return nil, err
	}
	id := trimZoneID(aws.ToString(in.Id))
	c := f.changes[id]
	if c == nil {
		return nil, &r53types.NoSuchChange{Message: aws.String("A change with the specified change ID does not exist: " + id)}
	}
	status := r53types.ChangeStatusInsync
	if c.polls < f.PendingPolls {
		status = r53types.ChangeStatusPending
	}
	c.polls++
	return &route53.GetChangeOutput{ChangeInfo: &r53types.ChangeInfo{Id: aws.String("/change/" + id), Status: status}}, nil
}
