package geo

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/osprey-ndr/osprey/internal/schema"
)

type kind int

const (
	location kind = iota + 1 // country and city
	asn                      // autonomous system
)

// file is one opened database.
type file struct {
	path   string
	kind   kind
	v4only bool // an IPv4 database cannot be asked about IPv6 addresses
	reader *maxminddb.Reader
}

// Only the fields used are declared, so decoding skips the rest (names
// in other languages, subdivisions, coordinates) without allocating.
type locationRecord struct {
	Country           isoCode `maxminddb:"country"`
	RegisteredCountry isoCode `maxminddb:"registered_country"`
	City              struct {
		Names struct {
			EN string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"city"`
}

type isoCode struct {
	ISOCode string `maxminddb:"iso_code"`
}

type asnRecord struct {
	Number uint32 `maxminddb:"autonomous_system_number"`
	Org    string `maxminddb:"autonomous_system_organization"`
}

// openFile opens an MMDB image read from path and tells its kind.
func openFile(path string, data []byte) (*file, error) {
	r, err := maxminddb.OpenBytes(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f := &file{path: path, reader: r, v4only: r.Metadata.IPVersion == 4}
	if f.kind = kindByType(r.Metadata.DatabaseType); f.kind == 0 {
		if f.kind, err = kindByShape(r); err != nil {
			return nil, fmt.Errorf("%s: database type %q: %w", path, r.Metadata.DatabaseType, err)
		}
	}
	return f, nil
}

func kindByType(t string) kind {
	t = strings.ToLower(t)
	switch {
	case strings.Contains(t, "asn"), strings.Contains(t, "isp"):
		return asn
	case strings.Contains(t, "city"), strings.Contains(t, "country"):
		return location
	}
	return 0
}

// kindByShape looks at the first few records for the fields of either
// kind, for databases whose type names neither.
func kindByShape(r *maxminddb.Reader) (kind, error) {
	const sample = 16
	n := 0
	for res := range r.Networks() {
		if err := res.Err(); err != nil {
			return 0, err
		}
		var a asnRecord
		if res.Decode(&a) == nil && (a.Number != 0 || a.Org != "") {
			return asn, nil
		}
		var l locationRecord
		if res.Decode(&l) == nil && (l.Country.ISOCode != "" || l.RegisteredCountry.ISOCode != "" || l.City.Names.EN != "") {
			return location, nil
		}
		if n++; n == sample {
			break
		}
	}
	return 0, fmt.Errorf("no record with country, city or autonomous system fields in the first %d", sample)
}

// lookup fills what g still lacks from this database.
func (f *file) lookup(ip netip.Addr, g *schema.Geo) error {
	switch {
	case f.v4only && ip.Is6():
		return nil
	case f.kind == location && (g.Country != "" || g.City != ""):
		return nil
	case f.kind == asn && (g.ASN != 0 || g.ASOrg != ""):
		return nil
	}
	res := f.reader.Lookup(ip)
	if !res.Found() { // before decoding, whose target escapes to the heap
		return res.Err()
	}
	switch f.kind {
	case location:
		var rec locationRecord
		if err := res.Decode(&rec); err != nil {
			return err
		}
		g.Country, g.City = rec.Country.ISOCode, rec.City.Names.EN
		if g.Country == "" {
			g.Country = rec.RegisteredCountry.ISOCode
		}
	case asn:
		var rec asnRecord
		if err := res.Decode(&rec); err != nil {
			return err
		}
		g.ASN, g.ASOrg = rec.Number, rec.Org
	}
	return nil
}
