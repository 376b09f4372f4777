package geo

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// network is one record of a test database.
type network struct {
	cidr   string
	record mmdbtype.Map
}

func city(country, registered, name string) mmdbtype.Map {
	m := mmdbtype.Map{
		"continent": mmdbtype.Map{"code": mmdbtype.String("EU")},
		"location":  mmdbtype.Map{"latitude": mmdbtype.Float64(51.5), "longitude": mmdbtype.Float64(-0.1)},
	}
	if country != "" {
		m["country"] = mmdbtype.Map{"iso_code": mmdbtype.String(country), "names": mmdbtype.Map{"en": mmdbtype.String(country + " land")}}
	}
	if registered != "" {
		m["registered_country"] = mmdbtype.Map{"iso_code": mmdbtype.String(registered)}
	}
	if name != "" {
		m["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(name), "de": mmdbtype.String(name + "-de")}}
	}
	return m
}

func asnOf(number uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{
		"autonomous_system_number":       mmdbtype.Uint32(number),
		"autonomous_system_organization": mmdbtype.String(org),
	}
}

// mmdb builds a database image; ipVersion 4 or 6.
func mmdb(t testing.TB, dbType string, ipVersion int, networks ...network) []byte {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            dbType,
		IPVersion:               ipVersion,
		RecordSize:              28,
		IncludeReservedNetworks: true, // to show that private space is never looked up
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range networks {
		_, ipnet, err := net.ParseCIDR(n.cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(ipnet, n.record); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeDB(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func cityDB(t testing.TB, dbType string) []byte {
	return mmdb(t, dbType, 6,
		network{"81.2.69.0/24", city("GB", "GB", "London")},
		network{"2a02:ff0::/32", city("DE", "DE", "Berlin")},
		network{"5.255.0.0/16", city("", "NL", "")}, // only a registered country
		network{"10.0.0.0/8", city("ZZ", "", "Private")},
	)
}

func asnDB(t testing.TB, dbType string) []byte {
	return mmdb(t, dbType, 6,
		network{"81.2.69.0/24", asnOf(20712, "Andrews & Arnold Ltd")},
		network{"1.1.1.0/24", asnOf(13335, "Cloudflare, Inc.")},
		network{"2a02:ff0::/32", asnOf(12345, "Example v6 AS")},
		network{"10.0.0.0/8", asnOf(64512, "Private AS")},
	)
}
