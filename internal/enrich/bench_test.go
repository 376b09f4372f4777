package enrich

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/osprey-ndr/osprey/internal/enrich/intel"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// BenchmarkSession enriches sessions with issue 5's reference load: 100 000
// assets, 50 000 CIDR ranges, 1 000 000 intelligence indicators (in four
// feeds), and City and ASN databases of 20 000 networks each. Each session
// is two endpoint lookups (asset, ranges, geo, intel on each) and the
// domain lookups of its TLS SNI or DNS query. Run with -cpu 1 for the
// per-core figure.
func BenchmarkSession(b *testing.B) {
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(5, 7))
	cfg := Config{
		Assets: []string{writeLines(b, dir, "assets.csv", 100_000, "id,name,account,ips,tags", func(i int) string {
			return fmt.Sprintf("i-%08x,host-%d,acct-%d,%s,%s", i, i, i%50, assetIP(i), []string{"vm", "datastore", "iot"}[i%3])
		})},
		CIDRs: []string{writeLines(b, dir, "ranges.csv", 50_000, "cidr,segment,tags", func(i int) string {
			if i < 40_000 { // private /24s under the assets, tagged by team
				return fmt.Sprintf("10.%d.%d.0/24,seg-%d,team-%d", i>>8, i&255, i%200, i%40)
			}
			return fmt.Sprintf("%d.%d.%d.0/22,partner-%d,partner", 20+(i>>14)&63, (i>>6)&255, (i&63)<<2, i%100)
		})},
		GeoIP: []string{writeGeo(b, dir, "city.mmdb", "GeoLite2-City"), writeGeo(b, dir, "asn.mmdb", "GeoLite2-ASN")},
	}
	for f := range 4 {
		cfg.Intel = append(cfg.Intel, intel.FeedConfig{Name: fmt.Sprintf("feed-%d", f), Path: writeLines(b, dir, fmt.Sprintf("feed-%d.txt", f), 250_000, "", func(i int) string {
			switch n := f*250_000 + i; {
			case n%20 == 0:
				return fmt.Sprintf("bad-%d.example", n)
			case n%20 == 1:
				return fmt.Sprintf("%d.%d.%d.0/24", 100+n%50, (n>>8)&255, n&255)
			default:
				return publicIP(n).String()
			}
		})})
	}
	e, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()

	// Traffic: assets talking to each other and to a working set of
	// public addresses, some of them listed, a third of sessions with a
	// TLS name.
	sessions := make([]schema.Session, 1<<16)
	for i := range sessions {
		s := &sessions[i]
		s.Orig.IP = assetIP(rng.IntN(100_000))
		switch r := rng.IntN(10); {
		case r < 5:
			s.Resp.IP = assetIP(rng.IntN(100_000))
		case r < 9:
			s.Resp.IP = publicIP(2_000_000 + rng.IntN(20_000)) // not listed
		default:
			s.Resp.IP = publicIP(rng.IntN(1_000_000)) // listed unless a domain or CIDR slot
		}
		if rng.IntN(3) == 0 {
			s.L7 = &schema.L7{TLS: &schema.TLS{SNI: fmt.Sprintf("cdn-%d.bad-%d.example", i, rng.IntN(2_000_000))}}
		}
	}
	var hits, named int
	for i := range sessions {
		s := sessions[i]
		e.Session(&s)
		hits += len(s.Resp.Intel) + len(s.Intel)
		if s.Orig.Asset != "" {
			named++
		}
	}
	if named != len(sessions) || hits == 0 {
		b.Fatalf("%d of %d origins named, %d intel hits: the fixture is wrong", named, len(sessions), hits)
	}
	// The loop sets the inputs of one session in place, as the pipeline
	// hands over a session it has just written: copying a cold 776-byte
	// record from a 50 MB array each time would measure memory, not
	// enrichment.
	type input struct {
		orig, resp netip.Addr
		l7         *schema.L7
	}
	inputs := make([]input, len(sessions))
	for i := range sessions {
		inputs[i] = input{sessions[i].Orig.IP, sessions[i].Resp.IP, sessions[i].L7}
	}
	b.ReportAllocs()
	var s schema.Session
	i := 0
	for b.Loop() {
		in := &inputs[i&(len(inputs)-1)]
		s.Orig.IP, s.Resp.IP, s.L7 = in.orig, in.resp, in.l7
		e.Session(&s)
		i++
	}
	perSec := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(perSec, "sessions/s")
	b.ReportMetric(2*perSec, "endpoints/s")
}

func assetIP(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

// publicIP spreads n over public /8s (1–99 without 10, 100–126 past
// CGNAT's 100.64/10 would need care, so 1–9 and 11–99).
func publicIP(n int) netip.Addr {
	first := byte(1 + n%98)
	if first >= 10 {
		first++
	}
	return netip.AddrFrom4([4]byte{first, byte(n >> 16), byte(n >> 8), byte(n)})
}

func writeLines(b *testing.B, dir, name string, n int, header string, line func(int) string) string {
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if header != "" {
		fmt.Fprintln(w, header)
	}
	for i := range n {
		fmt.Fprintln(w, line(i))
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return p
}

// writeGeo writes a City or ASN database of 20 000 /16 networks.
func writeGeo(b *testing.B, dir, name, kind string) string {
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: kind, RecordSize: 28})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 20_000 {
		ip := publicIP(i << 16)
		n := &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(16, 32)}
		rec := mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(64512 + i), "autonomous_system_organization": mmdbtype.String(fmt.Sprintf("AS org %d", i))}
		if kind != "GeoLite2-ASN" {
			rec = mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String([]string{"DE", "US", "NL", "BR"}[i%4])},
				"city": mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(fmt.Sprintf("city %d", i%500))}}}
		}
		if err := w.Insert(n, rec); err != nil {
			b.Fatal(err)
		}
	}
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := w.WriteTo(f); err != nil {
		b.Fatal(err)
	}
	return p
}
