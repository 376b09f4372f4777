package enrich

import (
	"net/netip"

	"github.com/osprey-ndr/osprey/internal/enrich/assets"
	"github.com/osprey-ndr/osprey/internal/enrich/netmap"
)

// names is the asset inventory joined with the CIDR map. For the
// addresses of assets it holds the answer an endpoint needs — the asset's
// names, its tags merged with its ranges' and its segment — so that one
// probe of one table replaces an inventory lookup, a range lookup and a
// merge of two tag lists (which allocated). It is rebuilt whenever the
// inventory or the ranges reload.
type names struct {
	inv  *assets.Inventory // nil without asset sources
	nets *netmap.Map
	// Small keys and values keep the tables compact, IPv4's on the
	// runtime's fast path for 4-byte keys.
	v4   map[[4]byte]uint32 // index in list
	v6   map[[16]byte]uint32
	list []name
}

// name is what an endpoint gets for an address.
type name struct {
	asset, assetName, account string
	tags                      []string
	segment                   string
}

func buildNames(inv *assets.Inventory, nets *netmap.Map, snaps []*assets.Snapshot) *names {
	n := &names{inv: inv, nets: nets, v4: map[[4]byte]uint32{}, v6: map[[16]byte]uint32{}}
	if inv == nil {
		return n
	}
	add := func(ip netip.Addr) {
		ip = ip.Unmap()
		if _, done := n.index(ip); done {
			return
		}
		a := inv.ByIP(ip) // the inventory decides which asset holds an address
		if a == nil {
			return
		}
		tags, seg := nets.Lookup(ip)
		i := uint32(len(n.list))
		n.list = append(n.list, name{asset: a.ID, assetName: a.Name, account: a.Account, tags: union(a.Tags, tags), segment: seg})
		if ip.Is4() {
			n.v4[ip.As4()] = i
		} else {
			n.v6[ip.As16()] = i
		}
	}
	for _, s := range snaps {
		if s == nil {
			continue
		}
		for i := range s.Assets {
			for _, ip := range s.Assets[i].IPs {
				add(ip)
			}
		}
		for i := range s.Interfaces {
			for _, ip := range s.Interfaces[i].IPs {
				add(ip)
			}
		}
	}
	return n
}

// lookup answers for any address: from the joined table for assets'
// addresses, else from the ranges alone.
func (n *names) lookup(ip netip.Addr) name {
	if i, ok := n.index(ip.Unmap()); ok {
		return n.list[i]
	}
	tags, seg := n.nets.Lookup(ip)
	return name{tags: tags, segment: seg}
}

func (n *names) index(ip netip.Addr) (uint32, bool) {
	var i uint32
	var ok bool
	if ip.Is4() {
		i, ok = n.v4[ip.As4()]
	} else if len(n.v6) > 0 {
		i, ok = n.v6[ip.As16()]
	}
	return i, ok
}
