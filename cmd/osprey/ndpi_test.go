package main

import (
	"encoding/csv"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/testutil"
)

// ndpiNames maps nDPI's master protocol names (lower-cased, before the
// first '.') to Osprey's App labels where they differ.
var ndpiNames = map[string]string{
	"ftp_control": "ftp",
	"netbios":     "netbios",
	"s7comm":      "s7comm",
	"s7comm-plus": "s7comm-plus",
	"bacnet":      "bacnet",
}

// flowKey joins the two tools' flows: protocol and both ends, unordered.
type flowKey struct {
	proto uint8
	lo    netip.AddrPort
	hi    netip.AddrPort
}

func keyOf(proto uint8, a, b netip.AddrPort) flowKey {
	if b.Addr().Less(a.Addr()) || (a.Addr() == b.Addr() && b.Port() < a.Port()) {
		a, b = b, a
	}
	return flowKey{proto, a, b}
}

// ndpiLabels runs ndpiReader with protocol guessing off (-d: content
// only) and returns its label per flow; "" for Unknown.
func ndpiLabels(t *testing.T, bin, pcap string) map[flowKey]string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "ndpi.csv")
	cmd := exec.Command(bin, "-i", pcap, "-d", "-q", "-C", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ndpiReader %s: %v\n%s", pcap, err, b)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	labels := map[flowKey]string{}
	for _, row := range rows[1:] {
		proto, _ := strconv.Atoi(row[1])
		sp, _ := strconv.Atoi(row[6])
		dp, _ := strconv.Atoi(row[8])
		src, err1 := netip.ParseAddr(row[5])
		dst, err2 := netip.ParseAddr(row[7])
		if err1 != nil || err2 != nil || (proto != 6 && proto != 17) {
			continue
		}
		name := strings.ToLower(strings.SplitN(row[10], ".", 2)[0])
		if n, ok := ndpiNames[name]; ok {
			name = n
		}
		if name == "unknown" {
			name = ""
		}
		labels[keyOf(uint8(proto), netip.AddrPortFrom(src, uint16(sp)), netip.AddrPortFrom(dst, uint16(dp)))] = name
	}
	return labels
}

// TestNDPIAgreement compares application labels with nDPI's (Debian's
// ndpiReader, run here on the same captures): on the sessions both label
// from content, at least 95 % must agree. Disagreements are listed by
// class; docs/dpi.md explains each.
func TestNDPIAgreement(t *testing.T) {
	bin := testutil.LookPath(t, "ndpiReader")
	root := testutil.SharedTestdata(t)
	pcaps, _ := filepath.Glob(filepath.Join(root, "*", "*", "*.pcap"))
	more, _ := filepath.Glob(filepath.Join(root, "*", "*.pcap"))
	pcaps = append(pcaps, more...)
	mix := filepath.Join(t.TempDir(), "mix.pcap")
	if _, stderr, err := osprey(t, "synth", "--packets", "200000", "--flows", "3000", "--iot", "-o", mix); err != nil {
		t.Fatalf("synth: %v\n%s", err, stderr)
	}
	pcaps = append(pcaps, mix)

	var both, agree, oursOnly, theirsOnly int
	var realBoth, realAgree int // on the peers' captures, without the generated mix
	classes := map[string]int{}
	for _, pcap := range pcaps {
		stdout, stderr, err := osprey(t, "read", "--output", "json", pcap)
		if err != nil {
			t.Fatalf("read %s: %v\n%s", pcap, err, stderr)
		}
		theirs := ndpiLabels(t, bin, pcap)
		for _, s := range parseSessions(t, stdout) {
			if s.Proto != 6 && s.Proto != 17 || s.App == "vxlan" || s.App == "geneve" {
				continue
			}
			k := keyOf(s.Proto, netip.AddrPortFrom(s.Orig.IP, s.Orig.Port), netip.AddrPortFrom(s.Resp.IP, s.Resp.Port))
			their, seen := theirs[k]
			if !seen {
				continue
			}
			ours := ""
			if s.L7 != nil && s.L7.By == "content" {
				ours = s.App
			}
			switch {
			case ours != "" && their != "":
				both++
				if pcap != mix {
					realBoth++
				}
				if ours == their {
					agree++
					if pcap != mix {
						realAgree++
					}
				} else {
					classes[fmt.Sprintf("osprey %s / nDPI %s", ours, their)]++
				}
			case ours != "":
				oursOnly++
				classes["osprey "+ours+" / nDPI unknown"]++
			case their != "":
				theirsOnly++
				classes["osprey unknown / nDPI "+their]++
			}
		}
	}
	var lines []string
	for c, n := range classes {
		lines = append(lines, fmt.Sprintf("%6d  %s", n, c))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(lines)))
	t.Logf("%d captures; both labelled %d, agree %d (%.2f %%; on the peers' captures alone %d of %d); only Osprey %d, only nDPI %d\n%s",
		len(pcaps), both, agree, 100*float64(agree)/float64(max(both, 1)), realAgree, realBoth, oursOnly, theirsOnly, strings.Join(lines, "\n"))
	if both < 1000 {
		t.Errorf("only %d sessions labelled by both: the comparison is too small", both)
	}
	if float64(agree) < 0.95*float64(both) || float64(realAgree) < 0.95*float64(realBoth) {
		t.Errorf("agreement %d of %d (peers' captures %d of %d), below 95 %%", agree, both, realAgree, realBoth)
	}
}
