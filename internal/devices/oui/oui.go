// Package oui names the organisation a MAC address was assigned to, from
// the IEEE registries: MA-L (24-bit prefixes), MA-M (28-bit), MA-S and
// the older IAB (36-bit), matched longest prefix first.
//
// The registries ship in the repository as oui.tsv.gz, made from Debian's
// ieee-data package 20220827.1 (IEEE files of 2022-08-27; Source reports
// it). To refresh them:
//
//	apt-get install ieee-data
//	go generate ./internal/devices/oui/
//
// Phones and recent desktops use random, locally administered addresses
// for privacy: check Kind before reading much into a vendor, since such
// an address names no one (a handful of legacy assignments do carry the
// local bit, so Lookup does not refuse them itself).
package oui

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

//go:generate go run ./internal/gen -src /usr/share/ieee-data -out oui.tsv.gz

//go:embed oui.tsv.gz
var data []byte

// table holds the prefixes of one length, sorted, with the index of their
// organisation's name.
type table struct {
	bits    uint
	entries []entry
}

type entry struct {
	prefix uint64
	name   int32
}

type registry struct {
	source string
	names  []string
	tables [3]table // 36, 28 then 24 bits: the longest match wins
	count  int
}

// load parses the embedded data once, on first use; a corrupt file is a
// build mistake that the package's tests catch, hence the panic.
var load = sync.OnceValue(func() *registry {
	r, err := parse(data)
	if err != nil {
		panic(fmt.Sprintf("oui: embedded registry: %v", err))
	}
	return r
})

func parse(gz []byte) (*registry, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	r := &registry{tables: [3]table{{bits: 36}, {bits: 28}, {bits: 24}}}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20) // the largest organisations hold over a thousand prefixes
	for line := 0; sc.Scan(); line++ {
		text := sc.Text()
		if line == 0 {
			r.source = strings.TrimPrefix(text, "# ")
			continue
		}
		name, prefixes, ok := strings.Cut(text, "\t")
		if !ok {
			return nil, fmt.Errorf("line %d: no tab", line+1)
		}
		r.names = append(r.names, name)
		for _, p := range strings.Fields(prefixes) {
			v, err := strconv.ParseUint(p, 16, 64)
			i := slices.IndexFunc(r.tables[:], func(t table) bool { return t.bits == uint(4*len(p)) })
			if err != nil || i < 0 {
				return nil, fmt.Errorf("line %d: bad prefix %q", line+1, p)
			}
			r.tables[i].entries = append(r.tables[i].entries, entry{v, int32(len(r.names) - 1)})
			r.count++
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for i := range r.tables {
		slices.SortFunc(r.tables[i].entries, func(a, b entry) int { return cmp.Compare(a.prefix, b.prefix) })
	}
	return r, nil
}

// Lookup returns the organisation holding the longest registered prefix
// of mac. It allocates nothing.
func Lookup(mac [6]byte) (vendor string, ok bool) {
	r := load()
	v := uint64(mac[0])<<40 | uint64(mac[1])<<32 | uint64(mac[2])<<24 | uint64(mac[3])<<16 | uint64(mac[4])<<8 | uint64(mac[5])
	for i := range r.tables {
		t := &r.tables[i]
		key := v >> (48 - t.bits)
		if j, found := slices.BinarySearchFunc(t.entries, key, func(e entry, k uint64) int { return cmp.Compare(e.prefix, k) }); found {
			return r.names[t.entries[j].name], true
		}
	}
	return "", false
}

// LookupString is Lookup for a MAC written "aa:bb:cc:dd:ee:ff",
// "aa-bb-cc-dd-ee-ff", "aabb.ccdd.eeff" or "aabbccddeeff"; ok is false
// when s is none of these.
func LookupString(s string) (vendor string, ok bool) {
	mac, ok := ParseMAC(s)
	if !ok {
		return "", false
	}
	return Lookup(mac)
}

// ParseMAC reads a MAC in the forms LookupString accepts, without
// allocating (unlike net.ParseMAC, which also takes longer addresses).
func ParseMAC(s string) (mac [6]byte, ok bool) {
	var sep byte
	var step int // hex digits between separators
	switch len(s) {
	case 12:
	case 14:
		sep, step = '.', 4
	case 17:
		sep, step = s[2], 2
		if sep != ':' && sep != '-' {
			return mac, false
		}
	default:
		return mac, false
	}
	n := 0 // hex digits read
	for i := 0; i < len(s); i++ {
		if sep != 0 && i%(step+1) == step {
			if s[i] != sep {
				return mac, false
			}
			continue
		}
		d, ok := unhex(s[i])
		if !ok {
			return mac, false
		}
		mac[n/2] |= d << (4 * (1 - n%2))
		n++
	}
	return mac, n == 12
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Kind tells how an address was assigned: "multicast" when its group bit
// (0x01 of the first octet) is set, else "local" when its locally
// administered bit (0x02) is — randomised addresses are — else
// "universal", a vendor's burnt-in address.
func Kind(mac [6]byte) string {
	switch {
	case mac[0]&0x01 != 0:
		return "multicast"
	case mac[0]&0x02 != 0:
		return "local"
	}
	return "universal"
}

// Len returns the number of prefixes loaded.
func Len() int { return load().count }

// Source describes the data: registries, their date and the ieee-data
// package they came from.
func Source() string { return load().source }
