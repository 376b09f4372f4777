package decode

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/testutil"
)

// zeekRecord is one row of a Zeek conn.log or tunnel.log: a connection or
// tunnel, with (for conn.log) the packets and IP bytes each way.
type zeekRecord struct {
	uid                 string
	orig, resp          netip.Addr
	origP, respP        uint16
	proto               uint8 // 0 in tunnel.log: any
	origPkts, origBytes int
	respPkts, respBytes int
	parents             []string
}

// readZeekLog reads a Zeek ASCII log by its #fields header.
func readZeekLog(t *testing.T, path string) []zeekRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var fields []string
	var out []zeekRecord
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if rest, ok := strings.CutPrefix(text, "#fields\t"); ok {
			fields = strings.Split(rest, "\t")
			continue
		}
		if strings.HasPrefix(text, "#") || text == "" {
			continue
		}
		row := map[string]string{}
		for i, v := range strings.Split(text, "\t") {
			if i < len(fields) {
				row[fields[i]] = v
			}
		}
		num := func(k string) int {
			n, err := strconv.Atoi(row[k])
			if err != nil && row[k] != "" {
				t.Fatalf("%s:%d: field %s: %v", path, line, k, err)
			}
			return n
		}
		r := zeekRecord{uid: row["uid"], orig: netip.MustParseAddr(row["id.orig_h"]), resp: netip.MustParseAddr(row["id.resp_h"]),
			origP: uint16(num("id.orig_p")), respP: uint16(num("id.resp_p")),
			origPkts: num("orig_pkts"), origBytes: num("orig_ip_bytes"), respPkts: num("resp_pkts"), respBytes: num("resp_ip_bytes")}
		switch row["proto"] {
		case "tcp":
			r.proto = 6
		case "udp":
			r.proto = 17
		case "icmp":
			r.proto = 1
			if r.orig.Is6() {
				r.proto = 58
			}
		}
		if p := row["tunnel_parents"]; p != "" && p != "-" {
			r.parents = strings.Split(p, ",")
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// level is one IP header of a decoded packet: each tunnel's outer header,
// then the innermost packet.
type level struct {
	src, dst     netip.Addr
	sport, dport uint16
	proto        uint8
	ipLen        int
}

func levels(p *Packet) []level {
	var ls []level
	for _, tn := range p.Tunnels[:p.NumTunnels] {
		ls = append(ls, level{tn.Src, tn.Dst, tn.SrcPort, tn.DstPort, tn.IPProto, tn.IPLen})
	}
	if p.IPVersion != 0 {
		ls = append(ls, level{p.Src, p.Dst, p.SrcPort, p.DstPort, p.IPProto, p.IPLen})
	}
	return ls
}

// match says whether l belongs to r, and in which direction. Ports are
// compared for TCP and UDP only: Zeek puts ICMP types in the port fields,
// and tunnel.log has none for GRE.
func (r zeekRecord) match(l level) (ok, fromOrig bool) {
	if r.proto != 0 && r.proto != l.proto {
		return false, false
	}
	ports := l.proto == 6 || l.proto == 17
	if l.src == r.orig && l.dst == r.resp && (!ports || l.sport == r.origP && l.dport == r.respP) {
		return true, true
	}
	if l.src == r.resp && l.dst == r.orig && (!ports || l.sport == r.respP && l.dport == r.origP) {
		return true, false
	}
	return false, false
}

// zeekCase is one Zeek trace with conn.log (and tunnel.log) baselines,
// and what else its baseline or test says about each packet.
type zeekCase struct {
	dir   string
	check func(t *testing.T, pkts []Packet)
}

// TestZeekBaselines decodes Zeek's tunnel and VLAN traces and checks the
// result against Zeek's own logs: every connection of conn.log gets
// exactly its packets and IP bytes each way from the packets' IP headers
// (outer tunnel headers included), every tunnelled connection's packets
// sit inside a tunnel of one of its tunnel_parents, and the tunnel kinds,
// VNIs and VLAN tags are those of the test.
func TestZeekBaselines(t *testing.T) {
	root := filepath.Join(testutil.SharedTestdata(t), "zeek")
	for _, tc := range []zeekCase{
		{"vxlan", func(t *testing.T, pkts []Packet) {
			checkEvents(t, filepath.Join(root, "vxlan", "out"), "vxlan_packet", pkts)
			for _, p := range pkts {
				if p.NumTunnels != 1 || p.Tunnels[0].Kind != TunnelVXLAN || p.Tunnels[0].VNI != 123 {
					t.Errorf("tunnels %+v, want one VXLAN with VNI 123", p.Tunnels[:p.NumTunnels])
				}
			}
		}},
		{"geneve", func(t *testing.T, pkts []Packet) {
			checkEvents(t, filepath.Join(root, "geneve", "out"), "geneve_packet", pkts)
		}},
		{"geneve-vxlan-dns", func(t *testing.T, pkts []Packet) {
			// tshark: GENEVE VNI 0x001092 and VXLAN VNI 4242; query corelight.com to 1.1.1.1.
			want := []summary{
				{Src: "172.16.11.201", Dst: "1.1.1.1", Proto: 17, SrcPort: 36872, DstPort: 53, IPLen: 82, Payload: 54,
					Tunnels: []string{"geneve", "vxlan"}, VNIs: []uint32{4242, 4242}, Truncated: true},
				{Src: "1.1.1.1", Dst: "172.16.11.201", Proto: 17, SrcPort: 53, DstPort: 36872, IPLen: 102, Payload: 74,
					Tunnels: []string{"geneve", "vxlan"}, VNIs: []uint32{4242, 4242}, Truncated: true},
			}
			compareSummaries(t, want, pkts)
		}},
		{"erspanII", func(t *testing.T, pkts []Packet) {
			icmp := func(src, dst string, typ uint8) summary {
				return summary{Src: src, Dst: dst, Proto: 1, IPLen: 100, Payload: 72, ICMP: [2]uint8{typ, 0}, EchoID: pkts[0].ICMPID,
					Tunnels: []string{"erspan2"}, VNIs: []uint32{100}}
			}
			compareSummaries(t, []summary{icmp("23.0.0.2", "23.0.0.3", 8), icmp("23.0.0.3", "23.0.0.2", 0),
				icmp("23.0.0.2", "23.0.0.3", 8), icmp("23.0.0.3", "23.0.0.2", 0)}, pkts)
		}},
		{"q-in-q", func(t *testing.T, pkts []Packet) {
			ip := 0
			for _, p := range pkts {
				if p.IPVersion != 0 {
					ip++
					if p.NumVLANs != 2 || p.VLANs != [2]uint16{13, 10} {
						t.Errorf("%v → %v: VLANs %v, want [13 10]", p.Src, p.Dst, p.VLANs[:p.NumVLANs])
					}
				}
			}
			if ip != 4 {
				t.Errorf("%d IP packets, want 4", ip)
			}
		}},
		// Further traces with conn.log baselines: the generic check only.
		{"vxlan-http", nil}, {"geneve-tls", nil}, {"http-get", nil}, {"wikipedia", nil},
		{"tls-sni-basic", nil}, {"tls13-sni", nil}, {"tls-google-repeat", nil}, {"dhcp", nil},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			dir := filepath.Join(root, tc.dir)
			captures, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
			if len(captures) != 1 {
				t.Fatalf("%d captures in %s", len(captures), dir)
			}
			pkts := decodeAll(t, captures[0], DefaultConfig())
			if _, err := os.Stat(filepath.Join(dir, "conn.log")); err == nil {
				checkConnLog(t, dir, pkts)
			}
			if tc.check != nil {
				tc.check(t, pkts)
			}
		})
	}
}

// decodeAll decodes every frame of a capture; a Packet's Payload points
// into its own copy of the frame.
func decodeAll(t *testing.T, path string, cfg Config) []Packet {
	t.Helper()
	r := openCapture(t, path)
	if r == nil {
		t.Fatalf("%s: unreadable", path)
	}
	d := NewDecoder(cfg)
	var pkts []Packet
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		var p Packet
		_ = d.Decode(append([]byte(nil), data...), LinkType(r.LinkType()), nil, &p)
		pkts = append(pkts, p)
	}
	return pkts
}

func checkConnLog(t *testing.T, dir string, pkts []Packet) {
	t.Helper()
	conns := readZeekLog(t, filepath.Join(dir, "conn.log"))
	byUID := map[string][]zeekRecord{}
	for _, c := range conns {
		byUID[c.uid] = append(byUID[c.uid], c)
	}
	if _, err := os.Stat(filepath.Join(dir, "tunnel.log")); err == nil {
		for _, tn := range readZeekLog(t, filepath.Join(dir, "tunnel.log")) {
			byUID[tn.uid] = append(byUID[tn.uid], tn)
		}
	}
	for _, c := range conns {
		got := c
		got.origPkts, got.origBytes, got.respPkts, got.respBytes = 0, 0, 0, 0
		for i := range pkts {
			ls := levels(&pkts[i])
			for k, l := range ls {
				ok, fromOrig := c.match(l)
				if !ok {
					continue
				}
				if fromOrig {
					got.origPkts++
					got.origBytes += l.ipLen
				} else {
					got.respPkts++
					got.respBytes += l.ipLen
				}
				if len(c.parents) > 0 && (k == 0 || !anyMatch(c.parents, byUID, ls[k-1])) {
					t.Errorf("%s: packet %d is not inside a tunnel of %v", c.uid, i+1, c.parents)
				}
				break
			}
		}
		if got.origPkts != c.origPkts || got.origBytes != c.origBytes || got.respPkts != c.respPkts || got.respBytes != c.respBytes {
			t.Errorf("%s %v:%d → %v:%d/%d: packets/IP bytes %d/%d and %d/%d, Zeek %d/%d and %d/%d", c.uid, c.orig, c.origP, c.resp, c.respP, c.proto,
				got.origPkts, got.origBytes, got.respPkts, got.respBytes, c.origPkts, c.origBytes, c.respPkts, c.respBytes)
		}
	}
}

func anyMatch(uids []string, byUID map[string][]zeekRecord, l level) bool {
	for _, uid := range uids {
		for _, r := range byUID[uid] {
			if ok, _ := r.match(l); ok {
				return true
			}
		}
	}
	return false
}

// eventRE reads Zeek's vxlan_packet/geneve_packet event lines: the inner
// IP header's length, addresses, ICMP type, and the VNI.
var eventRE = regexp.MustCompile(`len=(\d+),.* src=([^,]+), dst=([^\]]+)\].*icmp_type=(\d+)\]\], (\d+)$`)

// checkEvents compares the tunnelled packets, in order, with the events
// Zeek printed for them.
func checkEvents(t *testing.T, path, event string, pkts []Packet) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, event+",") {
			m := eventRE.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("%s: unreadable event %q", path, line)
			}
			want = append(want, strings.Join(m[1:], " "))
		}
	}
	for _, p := range pkts {
		if p.NumTunnels > 0 && p.IPVersion != 0 {
			got = append(got, strings.Join([]string{strconv.Itoa(p.IPLen), p.Src.String(), p.Dst.String(),
				strconv.Itoa(int(p.ICMPType)), strconv.Itoa(int(p.Tunnels[p.NumTunnels-1].VNI))}, " "))
		}
	}
	if len(want) == 0 {
		t.Fatalf("%s: no %s events", path, event)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s events (-zeek +osprey):\n%s", event, diff)
	}
}

func compareSummaries(t *testing.T, want []summary, pkts []Packet) {
	t.Helper()
	var got []summary
	for i := range pkts {
		got = append(got, summarize(&pkts[i]))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestVXLANPort8472 decodes tcpdump's VXLAN trace on Linux's port 8472,
// configured, to the same inner packets as its copy on port 4789.
func TestVXLANPort8472(t *testing.T) {
	dir := filepath.Join(testutil.SharedTestdata(t), "tcpdump")
	cfg := DefaultConfig()
	cfg.VXLANPorts = append(cfg.VXLANPorts, 8472)
	std, linux := decodeAll(t, filepath.Join(dir, "vxlan.pcap"), DefaultConfig()), decodeAll(t, filepath.Join(dir, "vxlan_port_8472.pcap"), cfg)
	if len(std) != len(linux) || len(std) == 0 {
		t.Fatalf("%d and %d packets", len(std), len(linux))
	}
	for i := range std {
		a, b := summarize(&std[i]), summarize(&linux[i])
		if diff := cmp.Diff(a, b); diff != "" || !slices.Equal(a.Tunnels, []string{"vxlan"}) {
			t.Errorf("packet %d (-4789 +8472):\n%s", i+1, diff)
		}
	}
}
