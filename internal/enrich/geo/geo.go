// Package geo tells the country, city and autonomous system of public
// addresses from MaxMind-format (MMDB) databases, read with
// github.com/oschwald/maxminddb-golang.
//
// Open takes any mix of location and ASN databases:
//
//   - location: GeoLite2-City, GeoLite2-Country, GeoIP2-City/-Country/
//     -Enterprise, DB-IP City/Country Lite; the fields read are
//     country.iso_code (registered_country.iso_code when the network has
//     no country) and city.names.en;
//   - ASN: GeoLite2-ASN, GeoIP2-ISP, DB-IP ASN Lite; the fields read are
//     autonomous_system_number and autonomous_system_organization.
//
// A file's kind comes from its metadata's database_type (a name holding
// "ASN" or "ISP", or "City" or "Country"), else from the shape of its
// first records; a file that is neither is an error. When several files
// of one kind answer for an address, the first given wins.
//
// Lookup answers nil for addresses that are not public (see
// netmap.IsPublic) and for those no database knows. Decoding a record
// costs about a microsecond and traffic repeats its addresses, so the
// answers for the last 64 Ki addresses or so are cached, by address:
// a repeated address costs a hash and two atomic loads, without a lock
// or an allocation. Answers are shared, read-only values.
//
// Files are read into memory rather than mapped, so that a DB replaced
// by a reload stays valid for lookups still in flight, and rewriting a
// file in place cannot crash the process.
package geo

import (
	"errors"
	"net/netip"
	"os"
	"sync/atomic"

	"github.com/osprey-ndr/osprey/internal/enrich/netmap"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// DB answers GeoIP and ASN lookups. It is safe for concurrent use.
type DB struct {
	files        []*file
	cache        *cache
	lookupErrors atomic.Uint64
}

// Open reads the MMDB files at paths; errors name the file.
func Open(paths ...string) (*DB, error) {
	if len(paths) == 0 {
		return nil, errors.New("geo: no database files")
	}
	d := &DB{cache: &cache{}}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		f, err := openFile(p, data)
		if err != nil {
			return nil, err
		}
		d.files = append(d.files, f)
	}
	return d, nil
}

// Lookup returns what the databases say about ip, or nil for an address
// that is not public or that no database knows. The answer is shared
// with other callers and the cache: it must not be modified. Answers
// from the cache do not allocate.
func (d *DB) Lookup(ip netip.Addr) *schema.Geo {
	ip = ip.Unmap() // a zone stays: it only makes another cache entry
	if !netmap.IsPublic(ip) {
		return nil
	}
	if g, ok := d.cache.get(ip); ok {
		return g
	}
	return d.cache.put(ip, d.resolve(ip))
}

// resolve asks every database, without the cache; the zero Geo means
// that none knows ip.
func (d *DB) resolve(ip netip.Addr) schema.Geo {
	var g schema.Geo
	for _, f := range d.files {
		if err := f.lookup(ip, &g); err != nil {
			d.lookupErrors.Add(1)
		}
	}
	return g
}

// LookupErrors counts records that could not be read: a database that
// opened but is corrupt further in. Such lookups answer what the other
// databases know.
func (d *DB) LookupErrors() uint64 { return d.lookupErrors.Load() }

// Close releases nothing: the databases are in the Go heap and are freed
// once no goroutine uses the DB. It is safe to call while lookups are in
// flight, so a reload may swap a new DB in and close the old one at once.
func (d *DB) Close() error { return nil }
