package main

import (
	"path/filepath"
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

// TestMirrorMetadata: each session keeps the encapsulation that delivered
// it — kind, outer source and VNI (or ERSPAN session id) of the innermost
// tunnel — as tshark reads the same captures.
func TestMirrorMetadata(t *testing.T) {
	root := filepath.Join(testutil.SharedTestdata(t), "zeek")
	for _, tc := range []struct {
		pcap, respIP string
		want         schema.Mirror
	}{
		{"geneve-vxlan-dns/geneve-vxlan-dns-truncated.pcap", "1.1.1.1", schema.Mirror{Kind: "vxlan", VNI: 4242}},
		{"vxlan/vxlan.pcap", "10.0.0.2", schema.Mirror{Kind: "vxlan", VNI: 123}},
		{"geneve/geneve.pcap", "30.0.0.2", schema.Mirror{Kind: "geneve", VNI: 0}},
		{"erspanII/erspanII.pcap", "23.0.0.3", schema.Mirror{Kind: "erspan2", VNI: 100}},
	} {
		t.Run(tc.pcap, func(t *testing.T) {
			stdout, stderr, err := osprey(t, "read", filepath.Join(root, tc.pcap))
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			found := false
			for _, s := range parseSessions(t, stdout) {
				if s.Resp.IP.String() != tc.respIP {
					continue
				}
				found = true
				if s.Mirror == nil || s.Mirror.Kind != tc.want.Kind || s.Mirror.VNI != tc.want.VNI || !s.Mirror.Source.IsValid() {
					t.Errorf("mirror %+v, want kind %s VNI %d", s.Mirror, tc.want.Kind, tc.want.VNI)
				}
			}
			if !found {
				t.Fatalf("no session to %s", tc.respIP)
			}
		})
	}
}
