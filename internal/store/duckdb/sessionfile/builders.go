package sessionfile

import (
	"encoding/binary"
	"fmt"

	"github.com/parquet-go/parquet-go/format"

	"github.com/osprey-ndr/osprey/internal/store"
)

// A builder collects one column's values for a row group, straight from
// the records (no row struct, no boxed value), then writes them as a
// column chunk with its statistics. Its buffers are kept for the next
// row group.
type builder interface {
	reset()
	// add appends the records' values. Records come a block at a time,
	// each block to every builder in turn: the loop over a block calls
	// one getter, and the block stays in the CPU's cache meanwhile.
	add(recs []*store.Record) error
	write(w *pageWriter) error
}

func newBuilder(c Column) builder {
	switch c.Type {
	case Varchar:
		if c.Device != nil {
			return &deviceDict{get: c.Device}
		}
		if c.Distinct {
			return &plainText{get: c.Text}
		}
		return &dictText{get: c.Text}
	case VarcharList:
		return &textList{get: c.Texts}
	case Blob:
		return &addrDict{get: c.Addr}
	case Boolean:
		return &bools{get: c.Bool}
	case Date, Bigint:
		return &ints{get: c.Int, wide: c.Type == Bigint}
	case UTinyint, USmallint, UInteger, UBigint:
		return &ints{getUint: c.Uint, wide: c.Type == UBigint}
	case USmallintList:
		return &uint16List{get: c.Uint16s}
	}
	panic(fmt.Sprintf("sessionfile: column %s has no type", c.Name))
}

// plainText is a string column of ids, PLAIN encoded: a dictionary of
// values that never repeat would only add to them.
type plainText struct {
	get    func(*store.Record) (string, error)
	buf    []byte
	n      int
	lo, hi string
}

func (c *plainText) reset() { c.buf, c.n, c.lo, c.hi = c.buf[:0], 0, "", "" }

func (c *plainText) add(recs []*store.Record) error {
	for _, r := range recs {
		v, err := c.get(r)
		if err != nil {
			return err
		}
		c.buf = binary.LittleEndian.AppendUint32(c.buf, uint32(len(v)))
		c.buf = append(c.buf, v...)
		if c.n == 0 || v < c.lo {
			c.lo = v
		}
		if c.n == 0 || v > c.hi {
			c.hi = v
		}
		c.n++
	}
	return nil
}

func (c *plainText) write(w *pageWriter) error {
	w.md.Statistics = format.Statistics{MinValue: []byte(c.lo), MaxValue: []byte(c.hi)}
	w.body = append(w.body[:0], c.buf...)
	return w.dataPage(c.n, format.Plain)
}

// ints is an integer column, DELTA_BINARY_PACKED: INT64 when wide, else
// INT32. Unsigned values (read by getUint) are stored as their bit
// pattern and compared unsigned for the statistics, as Parquet orders
// them.
type ints struct {
	get     func(*store.Record) int64
	getUint func(*store.Record) uint64
	wide    bool
	v       []int64
	v32     []int32
}

func (c *ints) reset() { c.v = c.v[:0] }

func (c *ints) add(recs []*store.Record) error {
	if c.getUint != nil {
		for _, r := range recs {
			c.v = append(c.v, int64(c.getUint(r)))
		}
		return nil
	}
	for _, r := range recs {
		c.v = append(c.v, c.get(r))
	}
	return nil
}

func (c *ints) write(w *pageWriter) error {
	lo, hi := c.v[0], c.v[0]
	for _, x := range c.v[1:] {
		if c.getUint != nil {
			if uint64(x) < uint64(lo) {
				lo = x
			}
			if uint64(x) > uint64(hi) {
				hi = x
			}
		} else {
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	var err error
	if c.wide {
		w.md.Statistics = format.Statistics{MinValue: binary.LittleEndian.AppendUint64(nil, uint64(lo)),
			MaxValue: binary.LittleEndian.AppendUint64(nil, uint64(hi))}
		w.body, err = deltaEncoding.EncodeInt64(w.body, c.v)
	} else {
		c.v32 = c.v32[:0]
		for _, x := range c.v {
			c.v32 = append(c.v32, int32(x))
		}
		w.md.Statistics = format.Statistics{MinValue: binary.LittleEndian.AppendUint32(nil, uint32(lo)),
			MaxValue: binary.LittleEndian.AppendUint32(nil, uint32(hi))}
		w.body, err = deltaEncoding.EncodeInt32(w.body, c.v32)
	}
	if err != nil {
		return err
	}
	return w.dataPage(len(c.v), format.DeltaBinaryPacked)
}

// bools is a BOOLEAN column, PLAIN: one bit a value.
type bools struct {
	get    func(*store.Record) bool
	bits   []byte
	n      int
	lo, hi bool
}

func (c *bools) reset() { c.bits, c.n = c.bits[:0], 0 }

func (c *bools) add(recs []*store.Record) error {
	for _, r := range recs {
		v := c.get(r)
		if c.n%8 == 0 {
			c.bits = append(c.bits, 0)
		}
		if v {
			c.bits[c.n/8] |= 1 << (c.n % 8)
		}
		if c.n == 0 {
			c.lo, c.hi = v, v
		}
		c.lo, c.hi = c.lo && v, c.hi || v
		c.n++
	}
	return nil
}

func (c *bools) write(w *pageWriter) error {
	b := func(v bool) []byte {
		if v {
			return []byte{1}
		}
		return []byte{0}
	}
	w.md.Statistics = format.Statistics{MinValue: b(c.lo), MaxValue: b(c.hi)}
	w.body = append(w.body[:0], c.bits...)
	return w.dataPage(c.n, format.Plain)
}
