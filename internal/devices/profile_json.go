package devices

import (
	"net/netip"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// ProfileVersion is written in every profile ("v"); it changes only when
// a field changes meaning, not when one is added.
const ProfileVersion = 1

// Profile is a device's schema.Device.Attributes: everything the
// inventory learnt of it beyond the id, addresses and category. Each
// field is documented in docs/devices.md. Lists are bounded; "dropped"
// counts what the caps turned away.
type Profile struct {
	Version int `json:"v"`
	// Identity is what the id is made of: asset, mac or ip.
	Identity   string   `json:"identity"`
	Asset      string   `json:"asset,omitempty"`
	Segment    string   `json:"segment,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	MergedFrom []Merge  `json:"merged_from,omitempty"`

	MACs          []MAC    `json:"macs,omitempty"`
	IPs           []IPSeen `json:"ips,omitempty"`
	Names         []Name   `json:"names,omitempty"`
	Vendor        *Vendor  `json:"vendor,omitempty"`
	RandomizedMAC bool     `json:"randomized_mac,omitempty"`

	OS       *Guess `json:"os,omitempty"`
	Category *Guess `json:"category,omitempty"`

	TTL         *TTL      `json:"ttl,omitempty"`
	TCPSigs     []TCPSig  `json:"tcp_sigs,omitempty"`
	DHCP        *DHCPSeen `json:"dhcp,omitempty"`
	UserAgents  []string  `json:"user_agents,omitempty"`
	SSH         []string  `json:"ssh,omitempty"`
	HTTPServers []string  `json:"http_servers,omitempty"`

	Services      []Service `json:"services,omitempty"`
	Peers         []Peer    `json:"peers,omitempty"`
	ClientApps    []AppUse  `json:"client_apps,omitempty"`
	JA4           []string  `json:"ja4,omitempty"`
	SNI           []string  `json:"sni,omitempty"`
	DNSQueries    []string  `json:"dns_queries,omitempty"`
	HTTPHosts     []string  `json:"http_hosts,omitempty"`
	MQTTClientIDs []string  `json:"mqtt_client_ids,omitempty"`

	Industrial *Industrial `json:"industrial,omitempty"`
	OT         []OTUse     `json:"ot,omitempty"`
	Hints      []Hint      `json:"hints,omitempty"`
	Gateway    *Gateway    `json:"gateway,omitempty"`
	Mirror     *Mirror     `json:"mirror,omitempty"`

	Traffic Traffic           `json:"traffic"`
	Dropped map[string]uint64 `json:"dropped,omitempty"`
}

// Merge is a device id folded into this one, and when.
type Merge struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
}

const maxMerged = 16

// MAC is one hardware address of the device.
type MAC struct {
	MAC       string    `json:"mac"`
	Kind      string    `json:"kind"` // universal, local
	Vendor    string    `json:"vendor,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// IPSeen is one address the device held, and when.
type IPSeen struct {
	IP        netip.Addr `json:"ip"`
	FirstSeen time.Time  `json:"first_seen"`
	LastSeen  time.Time  `json:"last_seen"`
}

// Name is a name the device announced or was given, with its source:
// dhcp, mdns, llmnr, netbios, ssdp or ptr.
type Name struct {
	Name      string    `json:"name"`
	Source    string    `json:"source"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Vendor is who made the device: from its own OT identification when it
// gave one, else from the IEEE registry for its MAC.
type Vendor struct {
	Name   string `json:"name"`
	Source string `json:"source"` // industrial, oui
}

// Guess is an OS or category guess: the best candidate, its confidence
// (0 to 1) and every piece of evidence behind it.
type Guess struct {
	Name       string     `json:"name"`
	Confidence float64    `json:"confidence"`
	Evidence   []Evidence `json:"evidence,omitempty"`
	// RunnerUp is the second candidate, when there was one.
	RunnerUp      string  `json:"runner_up,omitempty"`
	RunnerUpScore float64 `json:"runner_up_score,omitempty"`
}

// Evidence is one rule that matched, what it saw and what it added.
type Evidence struct {
	Rule   string  `json:"rule"`
	Detail string  `json:"detail"`
	Score  float64 `json:"score"`
}

// TTL counts sessions by the initial TTL their first packet implies.
type TTL struct {
	Initial  int               `json:"initial"` // the most common
	Sessions map[string]uint32 `json:"sessions"`
}

// TCPSig is a SYN (or, as a server, SYN-ACK) shape the device sent.
type TCPSig struct {
	Sig    string `json:"sig"`
	SynAck bool   `json:"syn_ack,omitempty"`
	Count  uint32 `json:"count"`
}

// DHCPSeen is what the device's last DHCP exchange said of it.
type DHCPSeen struct {
	Hostname    string    `json:"hostname,omitempty"`
	VendorClass string    `json:"vendor_class,omitempty"`
	ParamList   string    `json:"param_list,omitempty"`
	Domain      string    `json:"domain,omitempty"`
	LastSeen    time.Time `json:"last_seen"`
}

func (h *DHCPSeen) update(d *schema.DHCP, t time.Time) {
	if d.Hostname != "" {
		h.Hostname = d.Hostname
	}
	if d.VendorClass != "" {
		h.VendorClass = d.VendorClass
	}
	if d.ParamList != "" {
		h.ParamList = d.ParamList
	}
	if d.Domain != "" {
		h.Domain = d.Domain
	}
	if t.After(h.LastSeen) {
		h.LastSeen = t
	}
}

func (h *DHCPSeen) fill(o DHCPSeen) {
	if o.LastSeen.After(h.LastSeen) {
		o.fill(*h)
		*h = o
		return
	}
	for _, f := range [][2]*string{{&h.Hostname, &o.Hostname}, {&h.VendorClass, &o.VendorClass}, {&h.ParamList, &o.ParamList}, {&h.Domain, &o.Domain}} {
		if *f[0] == "" {
			*f[0] = *f[1]
		}
	}
}

// Service is a port the device accepted connections on.
type Service struct {
	Proto     string    `json:"proto"` // tcp, udp, …
	Port      uint16    `json:"port"`
	App       string    `json:"app,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Sessions  uint64    `json:"sessions"`
	Clients   uint64    `json:"clients"` // distinct client addresses (estimated past 32)
}

// Peer is an address the device talked to (either way).
type Peer struct {
	IP       netip.Addr `json:"ip"`
	Device   string     `json:"device,omitempty"` // when the peer is in the inventory
	Sessions uint64     `json:"sessions"`
	Bytes    uint64     `json:"bytes"`
	LastSeen time.Time  `json:"last_seen"`
}

// AppUse is a protocol the device used as a client; Port is set when the
// application is unknown.
type AppUse struct {
	App      string `json:"app,omitempty"`
	Proto    string `json:"proto"`
	Port     uint16 `json:"port,omitempty"`
	Sessions uint64 `json:"sessions"`
	Bytes    uint64 `json:"bytes"`
}

// Industrial is what an OT device said it is.
type Industrial struct {
	Protocol string `json:"protocol,omitempty"`
	Vendor   string `json:"vendor,omitempty"`
	Product  string `json:"product,omitempty"`
	Version  string `json:"version,omitempty"`
	Serial   string `json:"serial,omitempty"`
	Name     string `json:"name,omitempty"`
}

func (x *Industrial) update(in *schema.Industrial) {
	if in.Vendor == "" && in.Product == "" && in.Version == "" && in.Serial == "" && in.Name == "" {
		return
	}
	for _, f := range [][2]*string{{&x.Vendor, &in.Vendor}, {&x.Product, &in.Product}, {&x.Version, &in.Version},
		{&x.Serial, &in.Serial}, {&x.Name, &in.Name}} {
		if *f[1] != "" {
			*f[0] = *f[1]
		}
	}
	x.Protocol = in.Protocol
}

func (x *Industrial) fill(o Industrial) {
	for _, f := range [][2]*string{{&x.Protocol, &o.Protocol}, {&x.Vendor, &o.Vendor}, {&x.Product, &o.Product},
		{&x.Version, &o.Version}, {&x.Serial, &o.Serial}, {&x.Name, &o.Name}} {
		if *f[0] == "" {
			*f[0] = *f[1]
		}
	}
}

// OTUse is one OT protocol the device spoke, as server (polled) or
// client (polling).
type OTUse struct {
	Protocol  string   `json:"protocol"`
	Role      string   `json:"role"` // server, client
	Sessions  uint64   `json:"sessions"`
	Peers     uint64   `json:"peers"` // distinct clients (server) or servers (client)
	Functions []string `json:"functions,omitempty"`
}

// Hint is a tell-tale request seen (an ONVIF path served, a captive
// portal check made), with how often.
type Hint struct {
	Tag   string `json:"tag"`
	Count uint32 `json:"count"`
}

// Gateway marks a MAC found to be a router's.
type Gateway struct {
	Since     time.Time `json:"since"`
	Addresses uint64    `json:"addresses"` // distinct addresses seen behind it (estimated past 32)
}

// Mirror says how the device's traffic reached the sensor; Self is set
// when the mirror's outer source was the device's own address (AWS
// Traffic Mirroring sends from the mirrored ENI).
type Mirror struct {
	Kind     string `json:"kind"`
	VNI      uint32 `json:"vni"`
	Self     bool   `json:"self,omitempty"`
	Sessions uint64 `json:"sessions"`
}

// Traffic sums the device's sessions and bytes each way.
type Traffic struct {
	SessionsOut uint64 `json:"sessions_out"` // as originator
	SessionsIn  uint64 `json:"sessions_in"`  // as responder
	BytesOut    uint64 `json:"bytes_out"`
	BytesIn     uint64 `json:"bytes_in"`
}

func (t *Traffic) add(o Traffic) {
	t.SessionsOut += o.SessionsOut
	t.SessionsIn += o.SessionsIn
	t.BytesOut += o.BytesOut
	t.BytesIn += o.BytesIn
}
