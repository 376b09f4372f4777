package synth

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/testutil"
)

// iotDissectors are, for each kind of the IoT mix, the Wireshark
// protocol that must show in frame.protocols.
var iotDissectors = []string{"mqtt", "mbtcp", "s7comm", "dnp3", "bvlc", "bacapp", "dhcp", "ssh", "telnet", "ftp", "mdns", "llmnr"}

// TestTsharkDissectsIoT runs Wireshark's dissectors over IoT captures
// (plain and VXLAN), with IP, TCP and UDP checksum verification on: every
// new protocol is dissected, and no packet of theirs is malformed or
// carries an error-level expert item, nor any packet a bad checksum.
func TestTsharkDissectsIoT(t *testing.T) {
	bin := testutil.LookPath(t, "tshark")
	for _, vx := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "vxlan"}[vx], func(t *testing.T) {
			data, _ := write(t, Config{Packets: 30000, Flows: 400, IPv6Share: 0.2, Seed: 3, IoT: true, VXLAN: vx})
			path := filepath.Join(t.TempDir(), "iot.pcap")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "-n", "-r", path,
				"-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
				"-T", "fields", "-E", "separator=|", "-e", "frame.number", "-e", "frame.protocols",
				"-e", "_ws.expert.severity", "-e", "_ws.malformed", "-e", "_ws.expert.message")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("tshark: %v\n%s", err, stderr.String())
			}
			counts, warnings, bad, noise, frames := map[string]int{}, map[string]int{}, 0, 0, 0
			for line := range strings.Lines(string(out)) {
				frames++
				f := strings.SplitN(strings.TrimRight(line, "\n"), "|", 5)
				if len(f) < 5 {
					t.Fatalf("tshark line %q", line)
				}
				for p := range strings.SplitSeq(f[1], ":") {
					counts[p]++
				}
				worst := 0
				for s := range strings.SplitSeq(f[2], ",") {
					v, _ := strconv.Atoi(s)
					worst = max(worst, v)
				}
				mine := strings.Contains(strings.ToLower(f[4]), "checksum")
				for p := range strings.SplitSeq(f[1], ":") {
					mine = mine || slices.Contains(iotDissectors, p) || p == "tpkt" || p == "cotp" || p == "bacnet"
				}
				switch {
				case (f[3] != "" || worst >= 0x800000) && !mine:
					// The default mix's random UDP payloads now and then
					// look like RTP or RTCP to a heuristic dissector.
					noise++
				case f[3] != "" || worst >= 0x800000: // PI_ERROR
					if bad++; bad <= 10 {
						t.Errorf("frame %s (%s): %s %s", f[0], f[1], f[3], f[4])
					}
				case worst >= 0x600000: // PI_WARN
					warnings[f[1][strings.LastIndexByte(f[1], ':')+1:]]++
				}
			}
			if bad > 10 {
				t.Errorf("%d frames malformed or in error", bad)
			}
			var got []string
			for _, p := range iotDissectors {
				if counts[p] == 0 {
					t.Errorf("no %s frames", p)
				}
				got = append(got, p+" "+strconv.Itoa(counts[p]))
			}
			var warned []string
			for p, n := range warnings {
				warned = append(warned, p+" "+strconv.Itoa(n))
			}
			sort.Strings(warned)
			t.Logf("%d frames; dissected: %s; warnings (by top protocol): %s; random payloads taken for another protocol: %d",
				frames, strings.Join(got, ", "), strings.Join(warned, ", "), noise)
		})
	}
}
