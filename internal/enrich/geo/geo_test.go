package geo

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/osprey-ndr/osprey/internal/enrich/netmap"
	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestLookup(t *testing.T) {
	d, err := Open(writeDB(t, "city.mmdb", cityDB(t, "GeoLite2-City")), writeDB(t, "asn.mmdb", asnDB(t, "GeoLite2-ASN")))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, tc := range []struct {
		name, ip string
		want     *schema.Geo
	}{
		{"city and asn", "81.2.69.142", &schema.Geo{Country: "GB", City: "London", ASN: 20712, ASOrg: "Andrews & Arnold Ltd"}},
		{"mapped ipv6", "::ffff:81.2.69.142", &schema.Geo{Country: "GB", City: "London", ASN: 20712, ASOrg: "Andrews & Arnold Ltd"}},
		{"ipv6", "2a02:ff0::1", &schema.Geo{Country: "DE", City: "Berlin", ASN: 12345, ASOrg: "Example v6 AS"}},
		{"asn only", "1.1.1.1", &schema.Geo{ASN: 13335, ASOrg: "Cloudflare, Inc."}},
		{"registered country", "5.255.1.1", &schema.Geo{Country: "NL"}},
		{"unknown public", "8.8.8.8", nil},
		{"unknown public ipv6", "2001:4860::8888", nil},
		{"private, though in the files", "10.1.2.3", nil},
		{"loopback", "127.0.0.1", nil},
		{"cgnat", "100.64.1.1", nil},
		{"link-local ipv6", "fe80::1", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ip := netip.MustParseAddr(tc.ip)
			for range 2 { // the second answer comes from the cache
				if diff := cmp.Diff(tc.want, d.Lookup(ip)); diff != "" {
					t.Fatalf("(-want +got):\n%s", diff)
				}
			}
		})
	}
	if d.Lookup(netip.Addr{}) != nil {
		t.Error("the zero Addr has geo data")
	}
	if n := d.LookupErrors(); n != 0 {
		t.Errorf("%d lookup errors", n)
	}
}

func TestLookupFirstFileWins(t *testing.T) {
	other := mmdb(t, "GeoIP2-Country", 6, network{"81.2.69.0/24", city("IE", "", "")}, network{"1.1.1.0/24", city("AU", "", "")})
	d, err := Open(writeDB(t, "city.mmdb", cityDB(t, "GeoLite2-City")), writeDB(t, "country.mmdb", other))
	if err != nil {
		t.Fatal(err)
	}
	if g := d.Lookup(netip.MustParseAddr("81.2.69.1")); g == nil || g.Country != "GB" || g.City != "London" {
		t.Errorf("81.2.69.1: %+v, want the first file's GB, London", g)
	}
	if g := d.Lookup(netip.MustParseAddr("1.1.1.1")); g == nil || g.Country != "AU" {
		t.Errorf("1.1.1.1: %+v, want the second file's AU", g)
	}
}

func TestOpenKinds(t *testing.T) {
	for _, tc := range []struct {
		name, dbType string
		data         func(testing.TB, string) []byte
		want         kind
	}{
		{"geolite2 city", "GeoLite2-City", cityDB, location},
		{"geoip2 country", "GeoIP2-Country", cityDB, location},
		{"dbip city", "DBIP-City-Lite", cityDB, location},
		{"geolite2 asn", "GeoLite2-ASN", asnDB, asn},
		{"dbip asn", "DBIP-ASN-Lite (compat=GeoLite2-ASN)", asnDB, asn},
		{"geoip2 isp", "GeoIP2-ISP", asnDB, asn},
		{"location by shape", "Acme-Geo", cityDB, location},
		{"asn by shape", "Acme-Networks", asnDB, asn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := openFile("x.mmdb", tc.data(t, tc.dbType))
			if err != nil {
				t.Fatal(err)
			}
			if f.kind != tc.want {
				t.Errorf("kind %d, want %d", f.kind, tc.want)
			}
		})
	}
}

func TestOpenIPv4Database(t *testing.T) {
	v4 := mmdb(t, "GeoLite2-Country", 4, network{"81.2.69.0/24", city("GB", "", "")})
	d, err := Open(writeDB(t, "v4.mmdb", v4), writeDB(t, "asn.mmdb", asnDB(t, "GeoLite2-ASN")))
	if err != nil {
		t.Fatal(err)
	}
	if g := d.Lookup(netip.MustParseAddr("2a02:ff0::1")); g == nil || g.Country != "" || g.ASN != 12345 {
		t.Errorf("IPv6 address: %+v, want the ASN only", g)
	}
	if g := d.Lookup(netip.MustParseAddr("81.2.69.1")); g == nil || g.Country != "GB" {
		t.Errorf("IPv4 address: %+v", g)
	}
	if n := d.LookupErrors(); n != 0 {
		t.Errorf("%d lookup errors: an IPv6 address was asked of an IPv4 database", n)
	}
}

func TestOpenErrors(t *testing.T) {
	good := cityDB(t, "GeoLite2-City")
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "invalid MaxMind DB"},
		{"not an mmdb", []byte("<html>not found</html>"), "invalid MaxMind DB"},
		{"truncated", good[len(good)/2:], ""},
		{"metadata only", good[len(good)-200:], ""},
		{"neither kind", mmdb(t, "Acme-Anonymous-IP", 6, network{"81.2.69.0/24", mmdbtype.Map{"is_anonymous": mmdbtype.Bool(true)}}), `database type "Acme-Anonymous-IP": no record with country`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeDB(t, "bad.mmdb", tc.data)
			_, err := Open(writeDB(t, "good.mmdb", good), path)
			if err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %s and saying %q", err, path, tc.want)
			}
		})
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.mmdb")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Open(); err == nil {
		t.Error("no files: no error")
	}
}

// uncached is what Lookup should answer, asked without the cache.
func uncached(d *DB, ip netip.Addr) *schema.Geo {
	g := d.resolve(ip.Unmap())
	if !netmap.IsPublic(ip) || g == (schema.Geo{}) {
		return nil
	}
	return &g
}

// TestCacheAgrees looks up more addresses than the cache holds, from
// several goroutines, and compares every answer with an uncached one.
func TestCacheAgrees(t *testing.T) {
	d, err := Open(writeDB(t, "city.mmdb", cityDB(t, "GeoLite2-City")), writeDB(t, "asn.mmdb", asnDB(t, "GeoLite2-ASN")))
	if err != nil {
		t.Fatal(err)
	}
	var addrs []netip.Addr
	for _, base := range []string{"81.2.69.0", "1.1.1.0", "5.255.0.0", "8.8.0.0", "10.0.0.0"} {
		b := netip.MustParseAddr(base).As4()
		for i := range 1 << 14 {
			addrs = append(addrs, netip.AddrFrom4([4]byte{b[0], b[1], b[2] + byte(i>>8), byte(i)}))
		}
	}
	addrs = append(addrs, netip.MustParseAddr("2a02:ff0::1"), netip.MustParseAddr("2a02:ff0::2"))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range len(addrs) {
				ip := addrs[(i*7+w*13)%len(addrs)]
				got, want := d.Lookup(ip), uncached(d, ip)
				if !cmp.Equal(got, want) {
					t.Errorf("%s: cached %+v, uncached %+v", ip, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	ip := netip.MustParseAddr("81.2.69.142")
	if first, again := d.Lookup(ip), d.Lookup(ip); first != again {
		t.Error("a repeated lookup does not return the cached answer")
	}
	if n := testing.AllocsPerRun(100, func() { d.Lookup(ip) }); n != 0 {
		t.Errorf("a cached lookup allocates %v times", n)
	}
}

// TestLookupErrorsCounted corrupts the city record in a database whose
// search tree still opens: the lookup answers what the ASN database
// knows and the error is counted.
func TestLookupErrorsCounted(t *testing.T) {
	good := mmdb(t, "GeoLite2-City", 6, network{"81.2.69.0/24", city("GB", "GB", "London")})
	asnFile, err := openFile("asn.mmdb", asnDB(t, "GeoLite2-ASN"))
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("81.2.69.142")
	end := bytes.LastIndex(good, []byte("\xab\xcd\xefMaxMind.com"))
	for i := range end {
		bad := bytes.Clone(good)
		bad[i] = 0xff
		f, err := openFile("city.mmdb", bad)
		if err != nil {
			continue
		}
		d := &DB{files: []*file{f, asnFile}, cache: &cache{}}
		g := d.Lookup(ip)
		if d.LookupErrors() == 0 {
			continue
		}
		if g == nil || g.ASN != 20712 {
			t.Errorf("byte %d corrupt: %+v, want the ASN database's answer", i, g)
		}
		return
	}
	t.Fatal("no corruption of the database made a lookup fail")
}
