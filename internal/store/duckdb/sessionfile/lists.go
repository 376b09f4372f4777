package sessionfile

import (
	"encoding/binary"

	"github.com/parquet-go/parquet-go/format"

	"github.com/osprey-ndr/osprey/internal/store"
)

// levels are a list column's repetition and definition levels: one
// entry per element, or one for an empty list (definition 0, which
// Parquet counts as a null element).
type levels struct {
	rep, def []uint8
	empty    int
}

func (l *levels) reset() { l.rep, l.def, l.empty = l.rep[:0], l.def[:0], 0 }

// list records a list of n elements.
func (l *levels) list(n int) {
	if n == 0 {
		l.rep, l.def = append(l.rep, 0), append(l.def, 0)
		l.empty++
		return
	}
	l.rep, l.def = append(l.rep, 0), append(l.def, 1)
	for range n - 1 {
		l.rep, l.def = append(l.rep, 1), append(l.def, 1)
	}
}

// encode is the levels as a data page starts: repetition, then
// definition levels.
func (l *levels) encode(w *pageWriter) []byte {
	return w.levels(w.levels(w.body[:0], l.rep), l.def)
}

// textList is a list of strings, the strings in a dictionary.
type textList struct {
	get func(*store.Record) []string
	levels
	dict
}

func (c *textList) reset() { c.levels.reset(); c.dict.reset() }

func (c *textList) add(recs []*store.Record) error {
	for _, r := range recs {
		v := c.get(r)
		c.list(len(v))
		for _, s := range v {
			c.dict.add(s)
		}
	}
	return nil
}

func (c *textList) write(w *pageWriter) error {
	w.md.Statistics = c.stats()
	w.md.Statistics.NullCount = int64(c.empty)
	w.body = c.encode(w)
	return c.writeChunk(w, len(c.rep))
}

// uint16List is a list of USMALLINT, the values PLAIN as INT32.
type uint16List struct {
	get func(*store.Record) []uint16
	levels
	vals   []byte
	lo, hi uint16
}

func (c *uint16List) reset() { c.levels.reset(); c.vals = c.vals[:0] }

func (c *uint16List) add(recs []*store.Record) error {
	for _, r := range recs {
		v := c.get(r)
		c.list(len(v))
		for _, x := range v {
			if len(c.vals) == 0 {
				c.lo, c.hi = x, x
			}
			c.lo, c.hi = min(c.lo, x), max(c.hi, x)
			c.vals = binary.LittleEndian.AppendUint32(c.vals, uint32(x))
		}
	}
	return nil
}

func (c *uint16List) write(w *pageWriter) error {
	w.md.Statistics = format.Statistics{NullCount: int64(c.empty)}
	if len(c.vals) > 0 {
		w.md.Statistics.MinValue = binary.LittleEndian.AppendUint32(nil, uint32(c.lo))
		w.md.Statistics.MaxValue = binary.LittleEndian.AppendUint32(nil, uint32(c.hi))
	}
	w.body = append(c.encode(w), c.vals...)
	return w.dataPage(len(c.rep), format.Plain)
}
