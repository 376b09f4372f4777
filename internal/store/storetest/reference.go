package storetest

import (
	"bytes"
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/derive"
	"github.com/osprey-ndr/osprey/internal/store/filter"
)

// key is one dimension value with the order the stores sort it in
// (addresses by their 16 bytes, numbers as numbers).
type key struct {
	text string
	raw  []byte
	num  float64
}

func (a key) compare(b key) int {
	if a.raw != nil {
		return bytes.Compare(a.raw, b.raw)
	}
	if c := cmp.Compare(a.num, b.num); c != 0 {
		return c
	}
	return cmp.Compare(a.text, b.text)
}

// keys are the dimension values of a record, for the dimensions the suite
// asks about.
func keys(r *store.Record, dim string) []key {
	s := &r.Session
	str := func(v string) []key { return []key{{text: v}} }
	switch dim {
	case "app":
		return str(s.App)
	case "device":
		return []key{{text: device(s.Orig.Asset, s.Orig.IP.String())}, {text: device(s.Resp.Asset, s.Resp.IP.String())}}
	case "src.ip":
		b := store.Addr16(s.Orig.IP)
		return []key{{text: s.Orig.IP.String(), raw: b}}
	case "dst.ip":
		return []key{{text: s.Resp.IP.String(), raw: store.Addr16(s.Resp.IP)}}
	case "src.segment":
		return str(s.Orig.Segment)
	case "dst.segment":
		return str(s.Resp.Segment)
	case "proto":
		return str(s.Transport)
	case "dst.port":
		return []key{{text: strconv.Itoa(int(s.Resp.Port)), num: float64(s.Resp.Port)}}
	case "src.tag":
		var out []key
		for _, t := range s.Orig.Tags {
			out = append(out, key{text: t})
		}
		return out
	case "vni":
		return []key{{text: strconv.Itoa(int(s.Mirror.VNI)), num: float64(s.Mirror.VNI)}}
	case "dst.country":
		return str(derive.Country(&s.Resp))
	case "country":
		return []key{{text: derive.Country(&s.Orig)}, {text: derive.Country(&s.Resp)}}
	case "dst.asn":
		n := derive.ASN(&s.Resp)
		return []key{{text: strconv.FormatUint(uint64(n), 10), num: float64(n)}}
	case "server_name":
		return str(derive.ServerName(s))
	case "intel":
		var out []key
		for _, f := range derive.Intel(s) {
			out = append(out, key{text: f})
		}
		return out
	}
	panic("storetest: no reference for dimension " + dim)
}

func device(asset, ip string) string {
	if asset != "" {
		return asset
	}
	return ip
}

// inRange is the aggregation rule: a record counts at its end.
func inRange(r *store.Record, sc store.Scope) bool {
	return r.Tenant == sc.Tenant && (sc.Since.IsZero() || !r.End.Before(sc.Since)) && (sc.Until.IsZero() || r.End.Before(sc.Until))
}

func add(row *store.TopRow, r *store.Record) {
	row.Bytes += r.Delta.OrigBytes + r.Delta.RespBytes
	row.Packets += r.Delta.OrigPkts + r.Delta.RespPkts
	if r.Seq == 0 {
		row.Sessions++
	}
}

func pick(row store.TopRow, m store.Measure) uint64 {
	switch m {
	case store.Packets:
		return row.Packets
	case store.Sessions:
		return row.Sessions
	}
	return row.Bytes
}

func refTop(records []store.Record, q store.TopQuery) []store.TopRow {
	pred := filter.Compile(q.Filter)
	rows := map[string]*store.TopRow{}
	order := map[string]key{}
	for i := range records {
		r := &records[i]
		if !inRange(r, q.Scope) || !pred(&r.Session) {
			continue
		}
		for _, k := range keys(r, q.Dimension) {
			if rows[k.text] == nil {
				rows[k.text], order[k.text] = &store.TopRow{Key: k.text}, k
			}
			add(rows[k.text], r)
		}
	}
	var out []store.TopRow
	for _, r := range rows {
		if r.Bytes != 0 || r.Packets != 0 || r.Sessions != 0 { // values without traffic are not ranked
			out = append(out, *r)
		}
	}
	slices.SortFunc(out, func(a, b store.TopRow) int {
		if c := cmp.Compare(pick(b, q.By), pick(a, q.By)); c != 0 {
			return c
		}
		return order[a.Key].compare(order[b.Key])
	})
	return out[:min(len(out), q.Limit)]
}

func refSeries(records []store.Record, q store.SeriesQuery) []store.Point {
	pred := filter.Compile(q.Filter)
	type bk struct {
		t time.Time
		k string
	}
	sums := map[bk]float64{}
	totals := map[string]float64{}
	for i := range records {
		r := &records[i]
		if !inRange(r, q.Scope) || !pred(&r.Session) {
			continue
		}
		var row store.TopRow
		add(&row, r)
		v := float64(pick(row, q.By))
		step := q.Step.Microseconds()
		t := time.UnixMicro(r.End.UnixMicro() / step * step).UTC()
		for _, k := range keys(r, q.Dimension) {
			sums[bk{t, k.text}] += v
			totals[k.text] += v
		}
	}
	ranked := make([]string, 0, len(totals))
	for k := range totals {
		ranked = append(ranked, k)
	}
	slices.SortFunc(ranked, func(a, b string) int {
		if c := cmp.Compare(totals[b], totals[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	keep := map[string]bool{}
	for _, k := range ranked[:min(len(ranked), q.Limit)] {
		keep[k] = true
	}
	var out []store.Point
	for k, v := range sums {
		if keep[k.k] {
			out = append(out, store.Point{Time: k.t, Key: k.k, Value: v})
		}
	}
	slices.SortFunc(out, func(a, b store.Point) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return out
}

func refMatrix(records []store.Record, q store.MatrixQuery) []store.Cell {
	pred := filter.Compile(q.Filter)
	sums := map[[2]string]uint64{}
	for i := range records {
		r := &records[i]
		if !inRange(r, q.Scope) || !pred(&r.Session) {
			continue
		}
		var row store.TopRow
		add(&row, r)
		v := pick(row, q.Measure)
		if q.By == "tag" {
			for _, a := range r.Orig.Tags {
				for _, b := range r.Resp.Tags {
					sums[[2]string{a, b}] += v
				}
			}
			continue
		}
		sums[[2]string{r.Orig.Segment, r.Resp.Segment}] += v
	}
	var out []store.Cell
	for k, v := range sums {
		out = append(out, store.Cell{Src: k[0], Dst: k[1], Value: v})
	}
	slices.SortFunc(out, func(a, b store.Cell) int {
		if c := cmp.Compare(b.Value, a.Value); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Src, b.Src); c != 0 {
			return c
		}
		return cmp.Compare(a.Dst, b.Dst)
	})
	return out
}

func refGroup(records []store.Record, q store.GroupQuery) []store.GroupRow {
	pred := filter.Compile(q.Filter)
	type group struct {
		row  store.TopRow
		keys []key
	}
	groups := map[string]*group{}
	for i := range records {
		r := &records[i]
		if !inRange(r, q.Scope) || !pred(&r.Session) {
			continue
		}
		var ks []key
		id := ""
		for _, dim := range q.Dimensions {
			k := keys(r, dim)[0]
			ks = append(ks, k)
			id += k.text + "\x00"
		}
		if groups[id] == nil {
			groups[id] = &group{keys: ks}
		}
		add(&groups[id].row, r)
	}
	var all []*group
	for _, g := range groups {
		all = append(all, g)
	}
	slices.SortFunc(all, func(a, b *group) int {
		if c := cmp.Compare(pick(b.row, q.By), pick(a.row, q.By)); c != 0 {
			return c
		}
		for i := range a.keys {
			if c := a.keys[i].compare(b.keys[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	var out []store.GroupRow
	for _, g := range all[:min(len(all), q.Limit)] {
		row := store.GroupRow{Bytes: g.row.Bytes, Packets: g.row.Packets, Sessions: g.row.Sessions}
		for _, k := range g.keys {
			row.Keys = append(row.Keys, k.text)
		}
		out = append(out, row)
	}
	return out
}

// refPairSeries sums records into the minute their end falls in.
func refPairSeries(records []store.Record, q store.PairSeriesQuery) []store.PairPoint {
	type pk struct {
		t        time.Time
		src, dst string
	}
	sums := map[pk]*store.TopRow{}
	for i := range records {
		r := &records[i]
		m := r.End.Truncate(time.Minute)
		if r.Tenant != q.Tenant || (!q.Since.IsZero() && m.Before(q.Since)) || (!q.Until.IsZero() && !m.Before(q.Until)) {
			continue
		}
		k := pk{m, r.Orig.Segment, r.Resp.Segment}
		if sums[k] == nil {
			sums[k] = &store.TopRow{}
		}
		add(sums[k], r)
	}
	var out []store.PairPoint
	for k, v := range sums {
		out = append(out, store.PairPoint{Time: k.t.UTC(), Src: k.src, Dst: k.dst, Bytes: v.Bytes, Packets: v.Packets, Sessions: v.Sessions})
	}
	slices.SortFunc(out, func(a, b store.PairPoint) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Src, b.Src), cmp.Compare(a.Dst, b.Dst))
	})
	return out
}
