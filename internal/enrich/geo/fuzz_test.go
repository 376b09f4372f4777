package geo

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzOpenBytes feeds arbitrary bytes as a database file: opening must
// fail with an error naming the file or give a DB whose lookups neither
// panic nor disagree with themselves.
func FuzzOpenBytes(f *testing.F) {
	f.Add(cityDB(f, "GeoLite2-City"))
	f.Add(asnDB(f, "Acme-Networks"))
	addrs := []netip.Addr{
		netip.MustParseAddr("81.2.69.142"), netip.MustParseAddr("1.1.1.1"),
		netip.MustParseAddr("2a02:ff0::1"), netip.MustParseAddr("8.8.8.8"),
		netip.MustParseAddr("::ffff:5.255.1.1"), netip.MustParseAddr("2001:4860::1"),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := openFile("fuzz.mmdb", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.mmdb: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		d := &DB{files: []*file{db}, cache: &cache{}}
		for _, ip := range addrs {
			if first, again := d.Lookup(ip), d.Lookup(ip); !cmp.Equal(first, again) || !cmp.Equal(first, uncached(d, ip)) {
				t.Fatalf("%s: %+v, then %+v", ip, first, again)
			}
		}
	})
}
