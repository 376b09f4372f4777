package policy

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// benchPolicy is 50 rules of every kind, 5 of them CEL, that the
// benchmark sessions mostly keep, as a production baseline would.
func benchPolicy() string {
	var b strings.Builder
	b.WriteString("version: 1\nname: bench\nrules:\n")
	for i := range 20 {
		fmt.Fprintf(&b, "  - {name: deny-%d, deny: {from: {segment: [seg-%d, internet]}, to: {port: [%d, \"%d-%d\"]}}}\n", i, i, 2000+i, 3000+10*i, 3005+10*i)
	}
	for i := range 10 {
		fmt.Fprintf(&b, "  - {name: only-from-%d, to: {tag: svc-%d}, only_from: {tag: [vm, web]}}\n", i, i)
		fmt.Fprintf(&b, "  - {name: only-to-%d, from: {cidr: 10.%d.0.0/16}, only_to: {segment: [compute, datastores]}}\n", i, 100+i)
	}
	for i := range 5 {
		fmt.Fprintf(&b, "  - {name: allow-%d, allow: {from: {asset: i-admin-%d}}}\n", i, i)
	}
	b.WriteString("  - {name: cel-upload, when: 'dst.segment == \"internet\" && orig_bytes > 100000000'}\n")
	b.WriteString("  - {name: cel-tags, when: '\"pci\" in src.tags && !(\"pci\" in dst.tags)'}\n")
	b.WriteString("  - {name: cel-reject, when: 'flow.action == \"reject\" && dst.port < 1024'}\n")
	b.WriteString("  - {name: cel-long, when: 'duration > duration(\"12h\") && app == \"ssh\"'}\n")
	b.WriteString("  - {name: cel-ratio, from: {segment: internet}, when: 'resp_bytes > 10 * orig_bytes + 1000000'}\n")
	return b.String()
}

func BenchmarkPolicy(b *testing.B) {
	set := mustLoad(b, benchPolicy())
	if set.Rules() != 50 {
		b.Fatalf("%d rules, want 50", set.Rules())
	}
	sessions := make([]*schema.Session, 256)
	for i := range sessions {
		sessions[i] = session(func(s *schema.Session) {
			s.Resp.Port = uint16(443 + i%3)
			s.Orig.IP = netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		})
	}
	d := NewDetector(set)
	reports := 0
	report := func(detect.Report) { reports++ }
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.Session(sessions[i%len(sessions)], report)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
	if reports != 0 {
		b.Fatalf("%d reports: the benchmark sessions must keep every rule", reports)
	}
}

// BenchmarkCEL is one CEL rule alone, to see what cel-go allocates.
func BenchmarkCEL(b *testing.B) {
	for _, expr := range []string{
		`dst.segment == "internet" && orig_bytes > 100000000`,
		`"pci" in src.tags`,
		`src.ip == "10.0.0.6"`,
	} {
		b.Run(expr, func(b *testing.B) {
			d := NewDetector(mustLoad(b, "version: 1\nrules: [{name: r, when: '"+expr+"'}]\n"))
			s := session()
			b.ReportAllocs()
			for b.Loop() {
				d.Session(s, func(detect.Report) {})
			}
		})
	}
}
