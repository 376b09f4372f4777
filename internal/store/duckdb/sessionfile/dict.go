package sessionfile

import (
	"net/netip"
	"unsafe"

	"github.com/parquet-go/parquet-go/format"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

// entries are a dictionary's values, each once, and each row's (or
// list element's) index into them.
type entries struct {
	values []string
	idx    []int32
}

func (e *entries) reset() {
	clear(e.values) // let the last batch's strings go
	e.values, e.idx = e.values[:0], e.idx[:0]
}

// stats are the least and greatest values, byte-wise as Parquet orders
// strings and binaries.
func (e *entries) stats() format.Statistics {
	if len(e.values) == 0 {
		return format.Statistics{}
	}
	lo, hi := e.values[0], e.values[0]
	for _, v := range e.values[1:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	return format.Statistics{MinValue: []byte(lo), MaxValue: []byte(hi)}
}

// write writes a column of one value a row (its list columns write
// their levels first).
func (e *entries) write(w *pageWriter) error {
	w.md.Statistics = e.stats()
	w.body = w.body[:0]
	return e.writeChunk(w, len(e.idx))
}

// writeChunk writes the dictionary page, then a data page of n values:
// w.body (a list's levels, or nothing) followed by the indexes.
func (e *entries) writeChunk(w *pageWriter, n int) error {
	if len(e.values) == 0 { // only empty lists: levels alone
		return w.dataPage(n, format.Plain)
	}
	if err := w.dictPage(e.values); err != nil {
		return err
	}
	var err error
	if w.scratch, err = dictEncoding.EncodeInt32(w.scratch, e.idx); err != nil {
		return err
	}
	w.body = append(w.body, w.scratch...)
	return w.dataPage(n, format.RLEDictionary)
}

// dict is a dictionary of strings. Two shortcuts spare most rows the
// hashing: a value equal to the last row's, and a value whose bytes are
// where a recent one's were. The strings of one column mostly share a
// few backing arrays (constants, names from the configuration), and a
// string's bytes never change: the same address and length is the same
// value (the pointer kept also keeps those bytes from being reused).
type dict struct {
	entries
	table   map[string]int32
	last    string
	lastIdx int32
	seen    [64]struct {
		p   *byte
		n   int
		idx int32 // +1: 0 is an empty slot
	}
}

func (d *dict) reset() {
	d.entries.reset()
	if d.table == nil {
		d.table = make(map[string]int32, 64)
	}
	clear(d.table)
	clear(d.seen[:])
	d.last, d.lastIdx = "", -1
}

func (d *dict) add(v string) {
	p := unsafe.StringData(v)
	seen := &d.seen[uint64(uintptr(unsafe.Pointer(p)))*0x9e3779b97f4a7c15>>58]
	if seen.p == p && seen.n == len(v) && seen.idx > 0 {
		d.idx = append(d.idx, seen.idx-1)
		return
	}
	if d.lastIdx >= 0 && v == d.last {
		d.idx = append(d.idx, d.lastIdx)
		return
	}
	i, ok := d.table[v]
	if !ok {
		i = int32(len(d.values))
		d.table[v] = i
		d.values = append(d.values, v)
	}
	d.last, d.lastIdx = v, i
	seen.p, seen.n, seen.idx = p, len(v), i+1
	d.idx = append(d.idx, i)
}

// dictText is a string column in a dictionary.
type dictText struct {
	get func(*store.Record) (string, error)
	dict
}

func (c *dictText) add(recs []*store.Record) error {
	for _, r := range recs {
		v, err := c.get(r)
		if err != nil {
			return err
		}
		c.dict.add(v)
	}
	return nil
}

// addrDict is an address column in a dictionary of Addr16 values, keyed
// by the 16 bytes.
type addrDict struct {
	get func(*store.Record) netip.Addr
	entries
	table   addrIndex
	last    [16]byte
	lastIdx int32
}

func (c *addrDict) reset() {
	c.entries.reset()
	c.table.reset()
	c.lastIdx = -1
}

func (c *addrDict) add(recs []*store.Record) error {
	for _, r := range recs {
		a := c.get(r).As16() // as store.Addr16: zeros for no address
		if c.lastIdx < 0 || a != c.last {
			i, ok := c.table.get(a)
			if !ok {
				i = int32(len(c.values))
				c.table.put(a, i)
				c.values = append(c.values, string(a[:]))
			}
			c.last, c.lastIdx = a, i
		}
		c.idx = append(c.idx, c.lastIdx)
	}
	return nil
}

// deviceDict is a device name column: an end's asset, else its address
// formatted, each address once. (Addresses with a zone, or none, are
// formatted every time: their 16 bytes do not tell them apart.)
type deviceDict struct {
	get    func(*store.Record) *schema.Endpoint
	byAddr addrIndex
	dict
}

func (c *deviceDict) reset() {
	c.dict.reset()
	c.byAddr.reset()
}

func (c *deviceDict) add(recs []*store.Record) error {
	for _, r := range recs {
		e := c.get(r)
		switch {
		case e.Asset != "":
			c.dict.add(e.Asset)
		case !e.IP.IsValid() || e.IP.Zone() != "":
			c.dict.add(sqlstore.Device(e))
		default:
			a := e.IP.As16()
			if i, ok := c.byAddr.get(a); ok {
				c.idx = append(c.idx, i)
				continue
			}
			c.dict.add(sqlstore.Device(e))
			c.byAddr.put(a, c.idx[len(c.idx)-1])
		}
	}
	return nil
}
