package assets

import (
	"net/netip"
	"slices"
)

// Inventory indexes snapshots for lookups by address, id and mirror
// session. It is immutable once built, so any number of goroutines may
// look up at once without locks; to reload, build a new one and swap
// it in. Lookups return pointers into the inventory, shared by all
// callers: read them, never modify them.
type Inventory struct {
	assets []Asset
	ifaces []Interface
	// ifaceAsset[i] is the index in assets of ifaces[i]'s asset, or -1.
	ifaceAsset []int32
	mirrors    []MirrorSession
	// mirrorIface[m] is the index in ifaces of mirrors[m]'s ENI, or -1.
	mirrorIface []int32

	// The address index is keyed by the 16-byte form (IPv4 as
	// IPv4-mapped IPv6) and holds slice indexes: with no pointers in
	// its keys or values the garbage collector never scans it.
	byAddr map[[16]byte]owner

	byID   map[string]int32
	byName map[string]int32 // names held by one asset only

	// Sessions are found by the mirrored ENI and VNI, or by the VNI
	// alone when only one session uses it.
	mirrorByENI map[eniVNI]int32
	mirrorByVNI map[uint32]int32
}

// owner is what holds an address: an asset, an interface, or both.
type owner struct{ asset, iface int32 }

type eniVNI struct {
	iface int32
	vni   uint32
}

// NewInventory merges snapshots, later ones winning: an asset,
// interface or mirror session whose id appears again is replaced
// whole, and an address claimed by two assets belongs to the later
// claim. Interfaces join their asset through Interface.Asset, or else
// through the asset's Interfaces, and lend it their addresses.
// NewInventory keeps the snapshots' slices: do not modify them after.
func NewInventory(snaps ...*Snapshot) *Inventory {
	inv := &Inventory{}
	assetRank, ifaceRank := inv.collect(snaps)
	inv.link()
	inv.indexAddrs(len(snaps), assetRank, ifaceRank)
	inv.indexNames()
	inv.indexMirrors()
	return inv
}

// collect gathers the entities of all snapshots, the later of two with
// one id replacing the earlier in place; it returns the snapshot each
// asset and interface came from.
func (inv *Inventory) collect(snaps []*Snapshot) (assetRank, ifaceRank []int32) {
	var nAssets, nIfaces, nMirrors int
	for _, s := range snaps {
		if s != nil {
			nAssets, nIfaces, nMirrors = nAssets+len(s.Assets), nIfaces+len(s.Interfaces), nMirrors+len(s.Mirrors)
		}
	}
	inv.assets, assetRank = make([]Asset, 0, nAssets), make([]int32, 0, nAssets)
	inv.ifaces, ifaceRank = make([]Interface, 0, nIfaces), make([]int32, 0, nIfaces)
	inv.mirrors = make([]MirrorSession, 0, nMirrors)
	inv.byID = make(map[string]int32, nAssets)
	ifaceByID := make(map[string]int32, nIfaces)
	mirrorByID := make(map[string]int32, nMirrors)
	for rank, s := range snaps {
		if s == nil {
			continue
		}
		for _, a := range s.Assets {
			assetRank = setRank(assetRank, upsert(&inv.assets, inv.byID, a.ID, a), int32(rank))
		}
		for _, f := range s.Interfaces {
			ifaceRank = setRank(ifaceRank, upsert(&inv.ifaces, ifaceByID, f.ID, f), int32(rank))
		}
		for _, m := range s.Mirrors {
			upsert(&inv.mirrors, mirrorByID, m.ID, m)
		}
	}
	inv.mirrorIface = make([]int32, len(inv.mirrors))
	for m, s := range inv.mirrors {
		inv.mirrorIface[m] = lookup(ifaceByID, s.Interface)
	}
	return assetRank, ifaceRank
}

// upsert appends v, or replaces the entry with the same id, and
// returns its index.
func upsert[T any](list *[]T, index map[string]int32, id string, v T) int32 {
	if i, ok := index[id]; ok {
		(*list)[i] = v
		return i
	}
	index[id] = int32(len(*list))
	*list = append(*list, v)
	return int32(len(*list) - 1)
}

// setRank records the snapshot of the entry at index i, which is either
// new (one past the end) or replaced.
func setRank(ranks []int32, i, rank int32) []int32 {
	if int(i) == len(ranks) {
		return append(ranks, rank)
	}
	ranks[i] = rank
	return ranks
}

func lookup(index map[string]int32, id string) int32 {
	if i, ok := index[id]; ok {
		return i
	}
	return -1
}

// link joins interfaces to their assets and merges each interface's
// id and addresses into its asset.
func (inv *Inventory) link() {
	inv.ifaceAsset = make([]int32, len(inv.ifaces))
	ifaceByID := make(map[string]int32, len(inv.ifaces))
	for i, f := range inv.ifaces {
		ifaceByID[f.ID] = int32(i)
		inv.ifaceAsset[i] = lookup(inv.byID, f.Asset)
	}
	for a, asset := range inv.assets {
		for _, id := range asset.Interfaces {
			if i := lookup(ifaceByID, id); i >= 0 && inv.ifaceAsset[i] < 0 {
				inv.ifaceAsset[i] = int32(a)
				inv.ifaces[i].Asset = asset.ID
			}
		}
	}
	// Merge into fresh slices: the snapshots' own stay as they were.
	merged := make([]bool, len(inv.assets))
	for i, a := range inv.ifaceAsset {
		if a < 0 {
			continue
		}
		asset := &inv.assets[a]
		if !merged[a] {
			merged[a] = true
			asset.IPs = slices.Clone(asset.IPs)
			asset.Interfaces = slices.Clone(asset.Interfaces)
		}
		asset.IPs = append(asset.IPs, inv.ifaces[i].IPs...)
		asset.Interfaces = append(asset.Interfaces, inv.ifaces[i].ID)
	}
	for a, ok := range merged {
		if !ok {
			continue
		}
		asset := &inv.assets[a]
		asset.IPs, asset.Interfaces = sortedAddrs(asset.IPs), sortedStrings(asset.Interfaces)
	}
}

// indexAddrs lets every asset and interface claim its addresses,
// snapshot by snapshot and, within one, assets before interfaces, so
// that the later claim wins. An asset's claim keeps the interface that
// held the address unless it belongs to another asset; an interface's
// claim keeps the asset unless the interface has one of its own.
func (inv *Inventory) indexAddrs(snaps int, assetRank, ifaceRank []int32) {
	inv.byAddr = make(map[[16]byte]owner, len(inv.assets)+len(inv.ifaces))
	claim := func(ip netip.Addr, asset, iface int32) {
		k := ip.As16()
		o, ok := inv.byAddr[k]
		if !ok {
			o = owner{-1, -1}
		}
		if asset >= 0 {
			if o.iface >= 0 && inv.ifaceAsset[o.iface] >= 0 && inv.ifaceAsset[o.iface] != asset {
				o.iface = -1
			}
			o.asset = asset
		}
		if iface >= 0 {
			o.iface = iface
		}
		inv.byAddr[k] = o
	}
	for rank := range int32(snaps) {
		for a := range inv.assets {
			if assetRank[a] != rank {
				continue
			}
			for _, ip := range inv.assets[a].IPs {
				claim(ip, int32(a), -1)
			}
		}
		for i, f := range inv.ifaces {
			if ifaceRank[i] != rank {
				continue
			}
			for _, ip := range f.IPs {
				claim(ip, inv.ifaceAsset[i], int32(i))
			}
		}
	}
}

func (inv *Inventory) indexNames() {
	inv.byName = make(map[string]int32, len(inv.assets))
	for a, asset := range inv.assets {
		if asset.Name == "" {
			continue
		}
		if _, dup := inv.byName[asset.Name]; dup {
			inv.byName[asset.Name] = -1
		} else {
			inv.byName[asset.Name] = int32(a)
		}
	}
}

func (inv *Inventory) indexMirrors() {
	inv.mirrorByENI = make(map[eniVNI]int32, len(inv.mirrors))
	inv.mirrorByVNI = make(map[uint32]int32, len(inv.mirrors))
	for m, s := range inv.mirrors {
		if i := inv.mirrorIface[m]; i >= 0 {
			inv.mirrorByENI[eniVNI{i, s.VNI}] = int32(m)
		}
		if _, dup := inv.mirrorByVNI[s.VNI]; dup {
			inv.mirrorByVNI[s.VNI] = -1
		} else {
			inv.mirrorByVNI[s.VNI] = int32(m)
		}
	}
}

// Len is the number of assets.
func (inv *Inventory) Len() int { return len(inv.assets) }

// ByIP returns the asset holding ip, itself or through one of its
// interfaces, or nil. An IPv4-mapped IPv6 address finds its IPv4 form.
func (inv *Inventory) ByIP(ip netip.Addr) *Asset {
	if !ip.IsValid() {
		return nil
	}
	if o, ok := inv.byAddr[ip.As16()]; ok {
		return inv.asset(o.asset)
	}
	return nil
}

// ByID returns the asset with this id or else the one asset with this
// name, or nil.
func (inv *Inventory) ByID(id string) *Asset {
	if a, ok := inv.byID[id]; ok {
		return inv.asset(a)
	}
	if a, ok := inv.byName[id]; ok {
		return inv.asset(a)
	}
	return nil
}

// ByMirror resolves mirrored traffic to the session, the mirrored
// interface and its asset; any of them may be nil. AWS Traffic
// Mirroring sends VXLAN from the mirrored ENI's primary private address
// with the session's VNI, so the session is the one on the ENI holding
// source with this VNI, or else the only session with this VNI; without
// a session, the ENI and asset are those holding source.
func (inv *Inventory) ByMirror(source netip.Addr, vni uint32) (*MirrorSession, *Interface, *Asset) {
	o := owner{-1, -1}
	if source.IsValid() {
		if found, ok := inv.byAddr[source.As16()]; ok {
			o = found
		}
	}
	m, ok := inv.mirrorByENI[eniVNI{o.iface, vni}]
	if !ok {
		m, ok = inv.mirrorByVNI[vni]
	}
	if !ok || m < 0 {
		return nil, inv.iface(o.iface), inv.asset(o.asset)
	}
	if i := inv.mirrorIface[m]; i >= 0 {
		return &inv.mirrors[m], &inv.ifaces[i], inv.asset(inv.ifaceAsset[i])
	}
	return &inv.mirrors[m], inv.iface(o.iface), inv.asset(o.asset)
}

func (inv *Inventory) asset(i int32) *Asset {
	if i < 0 {
		return nil
	}
	return &inv.assets[i]
}

func (inv *Inventory) iface(i int32) *Interface {
	if i < 0 {
		return nil
	}
	return &inv.ifaces[i]
}
