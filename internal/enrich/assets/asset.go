package assets

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Asset is one host, device or cloud resource with the addresses it
// answers on.
type Asset struct {
	ID         string       // EC2 instance id, ENI id for ENIs of no instance, or the inventory id
	Name       string       // Name tag, ENI description, or the inventory name
	Account    string       // cloud account id or owner
	Region     string       // cloud region
	VPC        string       // VPC id
	Subnet     string       // subnet id
	Type       string       // instance type, ENI interface type, or free text
	Tags       []string     // sorted and unique
	IPs        []netip.Addr // sorted and unique; IPv4 never in its IPv4-mapped IPv6 form
	Interfaces []string     // ids of its network interfaces, sorted and unique
	Source     string       // where it came from: the file path, or "ec2:<region>"
}

// Interface is a network interface (an AWS ENI): its primary and
// secondary private addresses, IPv6 addresses and public addresses.
type Interface struct {
	ID     string
	Asset  string // id of the asset it is attached to, if any
	IPs    []netip.Addr
	MAC    string
	Subnet string
	VPC    string
}

// MirrorSession is an AWS Traffic Mirroring session: the packets of
// Interface reach Target as VXLAN with VNI.
type MirrorSession struct {
	ID        string
	VNI       uint32
	Interface string // mirrored ENI
	Target    string // traffic mirror target id
}

// Snapshot is what one source (a file, or EC2 in some regions) yields.
type Snapshot struct {
	Assets     []Asset
	Interfaces []Interface
	Mirrors    []MirrorSession
}

// EntryError is one rejected entry of a source: the rest of the source
// still loads.
type EntryError struct {
	Source string // file path
	Line   int    // 1-based line of the offending value
	Field  string // e.g. "assets[3].ips[1]", or the CSV column
	Err    error
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %v", e.Source, e.Line, e.Field, e.Err)
}

func (e *EntryError) Unwrap() error { return e.Err }

// parseAddr accepts what an inventory can match on: a valid address
// without zone, stored unmapped so that IPv4 has one form.
func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Addr{}, err
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("address %q has a zone", s)
	}
	return a.Unmap(), nil
}

// sortedAddrs sorts and deduplicates in place.
func sortedAddrs(ips []netip.Addr) []netip.Addr {
	slices.SortFunc(ips, netip.Addr.Compare)
	return slices.Compact(ips)
}

// sortedStrings trims, drops empty strings, sorts and deduplicates in
// place.
func sortedStrings(s []string) []string {
	s = slices.DeleteFunc(s, func(v string) bool { return strings.TrimSpace(v) == "" })
	for i, v := range s {
		s[i] = strings.TrimSpace(v)
	}
	slices.Sort(s)
	return slices.Compact(s)
}

// normalize puts the lists of a snapshot in their documented order.
func (s *Snapshot) normalize() {
	for i := range s.Assets {
		a := &s.Assets[i]
		a.Tags, a.IPs, a.Interfaces = sortedStrings(a.Tags), sortedAddrs(a.IPs), sortedStrings(a.Interfaces)
	}
	for i := range s.Interfaces {
		s.Interfaces[i].IPs = sortedAddrs(s.Interfaces[i].IPs)
	}
}
