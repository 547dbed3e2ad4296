package awssim

import (
	"encoding/xml"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Route 53 over restXml: hosted zones, record sets and changes, with the
// ordering, pagination and errors of AWS.

func init() { routers["route53"] = route53Route }

// DefaultChangeDelay is how long a Route 53 change stays PENDING when
// Options.ChangeDelay is zero.
const DefaultChangeDelay = time.Second

const r53Prefix = "/2013-04-01/"

func route53Route(s *Sim, r *request) (string, func() (reply, *apiError)) {
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, r53Prefix), "/")
	parts := strings.Split(path, "/")
	get, post := r.Method == http.MethodGet, r.Method == http.MethodPost
	bind := func(op string, h func(*Sim, *request, []string) (reply, *apiError)) (string, func() (reply, *apiError)) {
		return op, func() (reply, *apiError) { return h(s, r, parts) }
	}
	switch {
	case !strings.HasPrefix(r.URL.Path, r53Prefix):
	case len(parts) == 1 && parts[0] == "hostedzone" && post:
		return bind("CreateHostedZone", (*Sim).r53CreateHostedZone)
	case len(parts) == 1 && parts[0] == "hostedzone" && get:
		return bind("ListHostedZones", (*Sim).r53ListHostedZones)
	case len(parts) == 1 && parts[0] == "hostedzonesbyname" && get:
		return bind("ListHostedZonesByName", (*Sim).r53ListHostedZonesByName)
	case len(parts) == 2 && parts[0] == "hostedzone" && get:
		return bind("GetHostedZone", (*Sim).r53GetHostedZone)
	case len(parts) == 3 && parts[0] == "hostedzone" && parts[2] == "rrset" && get:
		return bind("ListResourceRecordSets", (*Sim).r53ListResourceRecordSets)
	case len(parts) == 3 && parts[0] == "hostedzone" && parts[2] == "rrset" && post:
		return bind("ChangeResourceRecordSets", (*Sim).r53ChangeResourceRecordSets)
	case len(parts) == 2 && parts[0] == "change" && get:
		return bind("GetChange", (*Sim).r53GetChange)
	}
	return "", nil
}

// The XML shapes of Route 53's answers.
type (
	xmlZoneConfig struct {
		Comment     string `xml:"Comment,omitempty"`
		PrivateZone bool   `xml:"PrivateZone"`
	}
	xmlZone struct {
		ID                     string        `xml:"Id"`
		Name                   string        `xml:"Name"`
		CallerReference        string        `xml:"CallerReference"`
		Config                 xmlZoneConfig `xml:"Config"`
		ResourceRecordSetCount int           `xml:"ResourceRecordSetCount"`
	}
	xmlChangeInfo struct {
		ID          string `xml:"Id"`
		Status      string `xml:"Status"`
		SubmittedAt string `xml:"SubmittedAt"`
		Comment     string `xml:"Comment,omitempty"`
	}
	xmlVPC struct {
		VPCRegion string `xml:"VPCRegion"`
		VPCId     string `xml:"VPCId"`
	}
	xmlDelegationSet struct {
		NameServers []string `xml:"NameServers>NameServer"`
	}
	xmlRRSet struct {
		Name            string      `xml:"Name"`
		Type            string      `xml:"Type"`
		TTL             int64       `xml:"TTL"`
		ResourceRecords []xmlRecord `xml:"ResourceRecords>ResourceRecord"`
	}
	xmlRecord struct {
		Value string `xml:"Value"`
	}
)

func (z *hostedZone) xml() xmlZone {
	return xmlZone{
		ID: "/hostedzone/" + z.ID, Name: encodeName(z.Name), CallerReference: z.CallerRef,
		Config:                 xmlZoneConfig{Comment: z.Comment, PrivateZone: z.Private},
		ResourceRecordSetCount: len(z.Sets),
	}
}

func (z *hostedZone) xmlVPCs() []xmlVPC {
	var out []xmlVPC
	for _, v := range z.VPCs {
		out = append(out, xmlVPC{VPCRegion: v.Region, VPCId: v.ID})
	}
	return out
}

func (s *Sim) changeInfo(c *r53Change) xmlChangeInfo {
	return xmlChangeInfo{ID: "/change/" + c.ID, Status: s.changeStatus(c), SubmittedAt: awsTime(c.Submitted), Comment: c.Comment}
}

// changeStatus is PENDING until the change delay has passed on the Sim's
// clock and a poller has seen it PENDING once; then INSYNC.
func (s *Sim) changeStatus(c *r53Change) string {
	d := s.opts.ChangeDelay
	if d == 0 {
		d = DefaultChangeDelay
	}
	if d < 0 || (c.Polled && !s.opts.Now().Before(c.Submitted.Add(d))) {
		return "INSYNC"
	}
	return "PENDING"
}

// newChange records a submitted change.
func (s *Sim) newChange(comment string) *r53Change {
	c := &r53Change{ID: "C" + randString(upperAlnum, 20), Submitted: s.opts.Now().UTC(), Comment: comment}
	s.r53.changes[c.ID] = c
	return c
}

func noSuchZone(id string) *apiError {
	return errf(404, "NoSuchHostedZone", "No hosted zone found with ID: %s", id)
}

func invalidInput(format string, args ...any) *apiError {
	return errf(400, "InvalidInput", format, args...)
}

// zoneArg finds the zone a path names; the SDK sends the bare id.
func (s *Sim) zoneArg(parts []string) (*hostedZone, *apiError) {
	id := parts[1]
	z := s.r53.zones[id]
	if z == nil {
		return nil, noSuchZone(id)
	}
	return z, nil
}

// maxItems reads the maxitems query parameter (default def, at most lim).
func maxItems(r *request, def, lim int) (int, *apiError) {
	v := r.URL.Query().Get("maxitems")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, invalidInput("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must be a positive integer", v)
	}
	return min(n, lim), nil
}

type createZoneRequest struct {
	Name            string `xml:"Name"`
	CallerReference string `xml:"CallerReference"`
	DelegationSetID string `xml:"DelegationSetId"`
	VPC             *struct {
		VPCRegion string `xml:"VPCRegion"`
		VPCId     string `xml:"VPCId"`
	} `xml:"VPC"`
	HostedZoneConfig *struct {
		Comment     string `xml:"Comment"`
		PrivateZone bool   `xml:"PrivateZone"`
	} `xml:"HostedZoneConfig"`
}

func (s *Sim) r53CreateHostedZone(r *request, _ []string) (reply, *apiError) {
	var in createZoneRequest
	if err := xml.Unmarshal(r.Body, &in); err != nil {
		return reply{}, invalidInput("Could not parse the request body: %v", err)
	}
	if in.CallerReference == "" {
		return reply{}, invalidInput("1 validation error detected: Value null at 'callerReference' failed to satisfy constraint: Member must not be null")
	}
	for _, z := range s.r53.zones {
		if z.CallerRef == in.CallerReference {
			return reply{}, errf(409, "HostedZoneAlreadyExists", "A hosted zone has already been created with the specified caller reference.")
		}
	}
	name := decodeName(in.Name)
	if !validName(name) {
		return reply{}, errf(400, "InvalidDomainName", "%s is not a valid domain name.", in.Name)
	}
	var v *vpc
	if in.VPC != nil {
		if in.VPC.VPCId == "" || in.VPC.VPCRegion == "" {
			return reply{}, errf(400, "InvalidVPCId", "The VPC ID is invalid: both VPCId and VPCRegion are required.")
		}
		v = &vpc{ID: in.VPC.VPCId, Region: in.VPC.VPCRegion}
	} else if in.HostedZoneConfig != nil && in.HostedZoneConfig.PrivateZone {
		return reply{}, invalidInput("A private hosted zone needs a VPC: VPCId and VPCRegion are required.")
	}
	comment := ""
	if in.HostedZoneConfig != nil {
		comment = in.HostedZoneConfig.Comment
	}
	z := s.createZone(name, in.CallerReference, comment, v)
	c := s.newChange("")
	out := struct {
		HostedZone    xmlZone           `xml:"HostedZone"`
		ChangeInfo    xmlChangeInfo     `xml:"ChangeInfo"`
		DelegationSet *xmlDelegationSet `xml:"DelegationSet,omitempty"`
		VPC           *xmlVPC           `xml:"VPC,omitempty"`
	}{HostedZone: z.xml(), ChangeInfo: s.changeInfo(c)}
	if z.Private {
		out.VPC = &xmlVPC{VPCRegion: v.Region, VPCId: v.ID}
	} else {
		out.DelegationSet = &xmlDelegationSet{NameServers: z.NameServers}
	}
	rep, ae := restXMLReply(201, "CreateHostedZoneResponse", out)
	rep.location = "https://route53.amazonaws.com/2013-04-01/hostedzone/" + z.ID
	return rep, ae
}

// privateNS are the name servers Route 53 puts in every private zone's NS set.
var privateNS = []string{"ns-0.awsdns-00.com.", "ns-512.awsdns-00.net.", "ns-1024.awsdns-00.org.", "ns-1536.awsdns-00.co.uk."}

// createZone adds a zone with its SOA and NS sets; v makes it private.
func (s *Sim) createZone(name, callerRef, comment string, v *vpc) *hostedZone {
	s.r53.seq++
	z := &hostedZone{
		ID: "Z" + randString(upperAlnum, 20), Seq: s.r53.seq, Name: fqdn(name),
		CallerRef: callerRef, Comment: comment, Sets: map[rrKey]*rrset{},
	}
	nsValues := privateNS
	if v != nil {
		z.Private, z.VPCs = true, []vpc{*v}
	} else {
		// One server in each of AWS's four TLDs, as a delegation set has.
		n := mrand.IntN(512)
		z.NameServers = []string{
			fmt.Sprintf("ns-%d.awsdns-%02d.com", n, n%64),
			fmt.Sprintf("ns-%d.awsdns-%02d.net", 512+n, n%64),
			fmt.Sprintf("ns-%d.awsdns-%02d.org", 1024+n, n%64),
			fmt.Sprintf("ns-%d.awsdns-%02d.co.uk", 1536+n, n%64),
		}
		nsValues = nil
		for _, ns := range z.NameServers {
			nsValues = append(nsValues, ns+".")
		}
	}
	z.Sets[rrKey{z.Name, "NS"}] = &rrset{Name: z.Name, Type: "NS", TTL: 172800, Values: append([]string(nil), nsValues...)}
	z.Sets[rrKey{z.Name, "SOA"}] = &rrset{Name: z.Name, Type: "SOA", TTL: 900,
		Values: []string{nsValues[0] + " awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}}
	s.r53.zones[z.ID] = z
	return z
}

func (s *Sim) r53GetHostedZone(r *request, parts []string) (reply, *apiError) {
	z, ae := s.zoneArg(parts)
	if ae != nil {
		return reply{}, ae
	}
	out := struct {
		HostedZone    xmlZone           `xml:"HostedZone"`
		DelegationSet *xmlDelegationSet `xml:"DelegationSet,omitempty"`
		VPCs          []xmlVPC          `xml:"VPCs>VPC,omitempty"`
	}{HostedZone: z.xml(), VPCs: z.xmlVPCs()}
	if !z.Private {
		out.DelegationSet = &xmlDelegationSet{NameServers: z.NameServers}
	}
	return restXMLReply(200, "GetHostedZoneResponse", out)
}

// zonesInOrder lists zones sorted by less.
func (s *Sim) zonesInOrder(less func(a, b *hostedZone) bool) []*hostedZone {
	zs := make([]*hostedZone, 0, len(s.r53.zones))
	for _, z := range s.r53.zones {
		zs = append(zs, z)
	}
	sort.Slice(zs, func(i, j int) bool { return less(zs[i], zs[j]) })
	return zs
}

func (s *Sim) r53ListHostedZones(r *request, _ []string) (reply, *apiError) {
	max, ae := maxItems(r, 100, 100)
	if ae != nil {
		return reply{}, ae
	}
	zs := s.zonesInOrder(creationLess)
	start := 0
	if m := r.URL.Query().Get("marker"); m != "" {
		start = -1
		for i, z := range zs {
			if z.ID == m {
				start = i
			}
		}
		if start < 0 {
			return reply{}, invalidInput("The marker %s does not name a hosted zone.", m)
		}
	}
	zs = zs[start:]
	out := struct {
		HostedZones []xmlZone `xml:"HostedZones>HostedZone"`
		Marker      string    `xml:"Marker"`
		IsTruncated bool      `xml:"IsTruncated"`
		NextMarker  string    `xml:"NextMarker,omitempty"`
		MaxItems    int       `xml:"MaxItems"`
	}{HostedZones: []xmlZone{}, Marker: r.URL.Query().Get("marker"), MaxItems: max}
	if len(zs) > max {
		out.IsTruncated, out.NextMarker = true, zs[max].ID
		zs = zs[:max]
	}
	for _, z := range zs {
		out.HostedZones = append(out.HostedZones, z.xml())
	}
	return restXMLReply(200, "ListHostedZonesResponse", out)
}

// creationLess is ListHostedZones' order: creation, then id (zones made
// outside createZone have no Seq; the id keeps their order stable).
func creationLess(a, b *hostedZone) bool {
	if a.Seq != b.Seq {
		return a.Seq < b.Seq
	}
	return a.ID < b.ID
}

// zoneByNameLess is ListHostedZonesByName's order: the name with its labels
// reversed, then the id.
func zoneByNameLess(a, b *hostedZone) bool {
	ra, rb := reversedName(a.Name), reversedName(b.Name)
	if ra != rb {
		return ra < rb
	}
	return a.ID < b.ID
}

func (s *Sim) r53ListHostedZonesByName(r *request, _ []string) (reply, *apiError) {
	q := r.URL.Query()
	max, ae := maxItems(r, 100, 100)
	if ae != nil {
		return reply{}, ae
	}
	dnsName, zoneID := q.Get("dnsname"), q.Get("hostedzoneid")
	if zoneID != "" && dnsName == "" {
		return reply{}, invalidInput("The hostedzoneid parameter can only be specified with the dnsname parameter.")
	}
	zs := s.zonesInOrder(zoneByNameLess)
	if dnsName != "" {
		start := reversedName(decodeName(dnsName))
		i := sort.Search(len(zs), func(i int) bool {
			rz := reversedName(zs[i].Name)
			return rz > start || (rz == start && zs[i].ID >= zoneID)
		})
		zs = zs[i:]
	}
	out := struct {
		HostedZones      []xmlZone `xml:"HostedZones>HostedZone"`
		DNSName          string    `xml:"DNSName,omitempty"`
		HostedZoneID     string    `xml:"HostedZoneId,omitempty"`
		IsTruncated      bool      `xml:"IsTruncated"`
		NextDNSName      string    `xml:"NextDNSName,omitempty"`
		NextHostedZoneID string    `xml:"NextHostedZoneId,omitempty"`
		MaxItems         int       `xml:"MaxItems"`
	}{HostedZones: []xmlZone{}, DNSName: dnsName, HostedZoneID: zoneID, MaxItems: max}
	if len(zs) > max {
		out.IsTruncated, out.NextDNSName, out.NextHostedZoneID = true, encodeName(zs[max].Name), zs[max].ID
		zs = zs[:max]
	}
	for _, z := range zs {
		out.HostedZones = append(out.HostedZones, z.xml())
	}
	return restXMLReply(200, "ListHostedZonesByNameResponse", out)
}

// rrsetLess is ListResourceRecordSets' order: the name with its labels
// reversed, then the type.
func rrsetLess(a, b rrKey) bool {
	ra, rb := reversedName(a.Name), reversedName(b.Name)
	if ra != rb {
		return ra < rb
	}
	return a.Type < b.Type
}

// sortedKeys lists a zone's sets in Route 53's order.
func (z *hostedZone) sortedKeys() []rrKey {
	keys := make([]rrKey, 0, len(z.Sets))
	for k := range z.Sets {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return rrsetLess(keys[i], keys[j]) })
	return keys
}

func (s *Sim) r53ListResourceRecordSets(r *request, parts []string) (reply, *apiError) {
	z, ae := s.zoneArg(parts)
	if ae != nil {
		return reply{}, ae
	}
	q := r.URL.Query()
	max, ae := maxItems(r, 300, 300)
	if ae != nil {
		return reply{}, ae
	}
	name, typ := q.Get("name"), strings.ToUpper(q.Get("type"))
	if typ != "" && name == "" {
		return reply{}, invalidInput("The input is not valid: a type can only be given with a name.")
	}
	keys := z.sortedKeys()
	if name != "" {
		start := rrKey{decodeName(name), typ}
		i := sort.Search(len(keys), func(i int) bool { return !rrsetLess(keys[i], start) })
		keys = keys[i:]
	}
	out := struct {
		ResourceRecordSets []xmlRRSet `xml:"ResourceRecordSets>ResourceRecordSet"`
		IsTruncated        bool       `xml:"IsTruncated"`
		NextRecordName     string     `xml:"NextRecordName,omitempty"`
		NextRecordType     string     `xml:"NextRecordType,omitempty"`
		MaxItems           int        `xml:"MaxItems"`
	}{ResourceRecordSets: []xmlRRSet{}, MaxItems: max}
	if len(keys) > max {
		out.IsTruncated, out.NextRecordName, out.NextRecordType = true, encodeName(keys[max].Name), keys[max].Type
		keys = keys[:max]
	}
	for _, k := range keys {
		set := z.Sets[k]
		x := xmlRRSet{Name: encodeName(set.Name), Type: set.Type, TTL: set.TTL}
		for _, v := range set.Values {
			x.ResourceRecords = append(x.ResourceRecords, xmlRecord{v})
		}
		out.ResourceRecordSets = append(out.ResourceRecordSets, x)
	}
	return restXMLReply(200, "ListResourceRecordSetsResponse", out)
}

func (s *Sim) r53GetChange(r *request, parts []string) (reply, *apiError) {
	c := s.r53.changes[parts[1]]
	if c == nil {
		return reply{}, errf(404, "NoSuchChange", "A change with the specified change ID does not exist: %s", parts[1])
	}
	info := s.changeInfo(c)
	c.Polled = true
	return restXMLReply(200, "GetChangeResponse", struct {
		ChangeInfo xmlChangeInfo `xml:"ChangeInfo"`
	}{info})
}
