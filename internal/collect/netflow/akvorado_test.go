package netflow

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

// akvoradoFlow is the part of akvorado's expected flows that a session
// holds. Its counters are as exported: akvorado scales them later.
type akvoradoFlow struct {
	SamplingRate     uint64
	SrcAddr, DstAddr string
	SrcPort, DstPort uint16
	Proto            uint8
	InIf, OutIf      uint32
	Bytes, Packets   uint64
	TCPFlags         uint8
	FlowDirection    string
	SrcVlan          uint16
	SrcMAC, DstMAC   string
}

// TestAkvoradoCaptures decodes akvorado's decoder test captures and
// checks the flows its tests expect (MANIFEST.md section C1).
func TestAkvoradoCaptures(t *testing.T) {
	dir := filepath.Join(testutil.SharedTestdata(t), "netflow", "akvorado")
	raw, err := os.ReadFile(filepath.Join(dir, "expected_flows.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]json.RawMessage
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for name, c := range cases {
		if strings.HasPrefix(name, "_") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			var tc struct {
				Pcaps    []string       `json:"pcaps_in_order"`
				Compared string         `json:"compared"`
				Expected []akvoradoFlow `json:"expected_flows"`
			}
			if err := json.Unmarshal(c, &tc); err != nil {
				t.Fatal(err)
			}
			var paths []string
			for _, p := range tc.Pcaps {
				paths = append(paths, filepath.Join(dir, p))
			}
			got, rj := decodeAll(t, DefaultConfig(), readDatagrams(t, paths...))
			for _, b := range rj.all() {
				t.Errorf("rejected: %v", &b)
			}
			want := tc.Expected
			if tc.Compared == "first-only" {
				want = want[:1]
			}
			if len(got) < len(want) {
				t.Fatalf("%d sessions, want at least %d", len(got), len(want))
			}
			for i, w := range want {
				g := got[i]
				if tc.Compared != "first-only" && !strings.HasPrefix(tc.Compared, "all") {
					t.Fatalf("unknown comparison %q", tc.Compared)
				}
				if strings.Contains(tc.Compared, "order-insensitive") {
					g = find(t, got, w)
				}
				checkAkvorado(t, i, g, w)
			}
		})
	}
}

func find(t *testing.T, got []schema.Session, w akvoradoFlow) schema.Session {
	for _, g := range got {
		if g.Orig.IP == addr(w.SrcAddr) && g.Resp.IP == addr(w.DstAddr) && g.Orig.Port == w.SrcPort {
			return g
		}
	}
	t.Errorf("no session %s:%d → %s", w.SrcAddr, w.SrcPort, w.DstAddr)
	return schema.Session{Flow: &schema.Flow{}}
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s).Unmap() }

func checkAkvorado(t *testing.T, i int, g schema.Session, w akvoradoFlow) {
	t.Helper()
	rate := max(w.SamplingRate, 1)
	if g.Orig.IP != addr(w.SrcAddr) || g.Resp.IP != addr(w.DstAddr) || g.Proto != w.Proto {
		t.Errorf("flow %d: %v → %v proto %d, want %s → %s proto %d", i, g.Orig.IP, g.Resp.IP, g.Proto, w.SrcAddr, w.DstAddr, w.Proto)
	}
	if g.Proto != 1 && g.Proto != 58 && (g.Orig.Port != w.SrcPort || g.Resp.Port != w.DstPort) {
		t.Errorf("flow %d: ports %d → %d, want %d → %d", i, g.Orig.Port, g.Resp.Port, w.SrcPort, w.DstPort)
	}
	if g.Proto == 1 || g.Proto == 58 {
		if typ := w.DstPort >> 8; g.Orig.Port != typ {
			t.Errorf("flow %d: ICMP type %d, want %d", i, g.Orig.Port, typ)
		}
	}
	if g.OrigPkts != w.Packets*rate || g.OrigIPBytes != w.Bytes*rate || g.OrigBytes != g.OrigIPBytes || g.RespPkts != 0 || g.RespIPBytes != 0 {
		t.Errorf("flow %d: %d pkts %d bytes, want %d×%d and %d×%d", i, g.OrigPkts, g.OrigIPBytes, w.Packets, rate, w.Bytes, rate)
	}
	f := g.Flow
	if f.SamplingRate != w.SamplingRate || f.InIf != w.InIf || f.OutIf != w.OutIf || f.TCPFlags != w.TCPFlags {
		t.Errorf("flow %d: rate %d if %d→%d flags %#x, want %d, %d→%d, %#x", i, f.SamplingRate, f.InIf, f.OutIf, f.TCPFlags, w.SamplingRate, w.InIf, w.OutIf, w.TCPFlags)
	}
	if dir, _, _ := strings.Cut(w.FlowDirection, "("); f.Direction != dir {
		t.Errorf("flow %d: direction %q, want %q", i, f.Direction, dir)
	}
	if w.SrcVlan != 0 && (len(g.VLANs) == 0 || g.VLANs[0] != w.SrcVlan) {
		t.Errorf("flow %d: VLANs %v, want %d first", i, g.VLANs, w.SrcVlan)
	}
	if g.Orig.MAC != w.SrcMAC || g.Resp.MAC != w.DstMAC {
		t.Errorf("flow %d: MACs %q → %q, want %q → %q", i, g.Orig.MAC, g.Resp.MAC, w.SrcMAC, w.DstMAC)
	}
	if g.UID == "" || g.CommunityID == "" || g.EndReason != "export" || !g.Final || g.ConnState != "OTH" {
		t.Errorf("flow %d: uid %q community %q end_reason %q final %v conn_state %q", i, g.UID, g.CommunityID, g.EndReason, g.Final, g.ConnState)
	}
}
