package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

// suricataFlow is one flow event a suricata-verify test expects
// (../shared/testdata/suricata-verify/*/test.yaml). Suricata counts
// whole frames, link layer included, so bytes are compared as IP bytes
// plus 14 bytes of Ethernet and 4 per VLAN tag for each packet.
type suricataFlow struct {
	test, pcap       string
	src, dst         string
	sport, dport     uint16
	pktsTS, pktsTC   uint64
	bytesTS, bytesTC uint64 // 0: not checked
	communityID      string
	vlans            []uint16
}

var suricataFlows = []suricataFlow{
	{test: "community-id-ipv6", pcap: "input.pcap", src: "2600:1f13:f8:d400:3a6:303c:e011:18eb", sport: 60202, dst: "2607:f8b0:400a:800::200e", dport: 443,
		pktsTS: 18, pktsTC: 18, bytesTS: 2439, bytesTC: 28862, communityID: "1:ptJhMvufAbB5nLDNW77cB800wFM="},
	{test: "community-id-ipv6", pcap: "input.pcap", src: "2600:1f13:f8:d400:3a6:303c:e011:18eb", sport: 33892, dst: "2001:4860:4860::8888", dport: 443,
		pktsTS: 17, pktsTC: 17, bytesTS: 2303, bytesTC: 7122, communityID: "1:PGf+a0eBbs1OhuPtJmsF0Sm51v4="},
	{test: "community-id-ipv4", pcap: "input.pcap", src: "172.26.0.39", sport: 35958, dst: "172.217.14.206", dport: 443,
		communityID: "1:IwiTNfuO7aCaamMijl+7/X9uLx0="},
	{test: "geneve-decoder", pcap: "input.pcap", src: "10.0.0.1", sport: 8, dst: "10.0.0.2", dport: 0, pktsTS: 4, pktsTC: 4, bytesTS: 392, bytesTC: 392},
	{test: "vxlan-decoder-02", pcap: "vxlan.pcap", src: "192.168.203.3", sport: 8, dst: "192.168.203.5", dport: 0, pktsTS: 4, pktsTC: 4},
	{test: "bug-814", pcap: "input.pcap", src: "fe80::20c:29ff:fef3:cf38", sport: 58307, dst: "fe80::20c:29ff:faf2:ab42", dport: 80,
		pktsTS: 4, pktsTC: 3, bytesTS: 461, bytesTC: 234, vlans: []uint16{1111}},
	{test: "dhcp-eve-extended", pcap: "input.pcap", src: "10.16.1.4", sport: 68, dst: "10.16.1.1", dport: 67, pktsTS: 1, pktsTC: 1, bytesTS: 342, bytesTC: 350},
}

// TestSuricataFlows compares sessions with the flow events Suricata's own
// test suite expects for the same captures: a second peer besides Zeek.
func TestSuricataFlows(t *testing.T) {
	root := filepath.Join(testutil.SharedTestdata(t), "suricata-verify")
	seed7 := filepath.Join(t.TempDir(), "seed7.yaml")
	if err := os.WriteFile(seed7, []byte("meter: {community_id_seed: 7}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, want := range suricataFlows {
		t.Run(fmt.Sprintf("%s/%d", want.test, want.sport), func(t *testing.T) {
			stdout, stderr, err := osprey(t, "read", "--output", "json", "--config", seed7, filepath.Join(root, want.test, want.pcap))
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			var got *schema.Session
			for _, s := range parseSessions(t, stdout) {
				if s.Orig.IP.String() == want.src && s.Orig.Port == want.sport && s.Resp.IP.String() == want.dst && s.Resp.Port == want.dport {
					got = &s
				}
			}
			if got == nil {
				t.Fatalf("no session %s:%d → %s:%d in\n%s", want.src, want.sport, want.dst, want.dport, stdout)
			}
			if want.pktsTS != 0 && (got.OrigPkts != want.pktsTS || got.RespPkts != want.pktsTC) {
				t.Errorf("packets %d/%d, Suricata %d/%d", got.OrigPkts, got.RespPkts, want.pktsTS, want.pktsTC)
			}
			link := uint64(14 + 4*len(got.VLANs))
			if ts, tc := got.OrigIPBytes+link*got.OrigPkts, got.RespIPBytes+link*got.RespPkts; want.bytesTS != 0 && (ts != want.bytesTS || tc != want.bytesTC) {
				t.Errorf("frame bytes %d/%d, Suricata %d/%d", ts, tc, want.bytesTS, want.bytesTC)
			}
			if want.communityID != "" && got.CommunityID != want.communityID {
				t.Errorf("community_id %s, Suricata %s", got.CommunityID, want.communityID)
			}
			if want.vlans != nil && !slices.Equal(got.VLANs, want.vlans) {
				t.Errorf("vlans %v, Suricata %v", got.VLANs, want.vlans)
			}
		})
	}
}
