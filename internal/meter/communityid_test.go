package meter

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

// TestCommunityID checks the Community ID of every connection Zeek printed
// for its community-id test traces.
func TestCommunityID(t *testing.T) {
	dir := filepath.Join(testutil.SharedTestdata(t), "zeek", "communityid")
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap.out"))
	if len(files) == 0 {
		testutil.Missing(t, "zeek/communityid/*.pcap.out")
	}
	line := regexp.MustCompile(`orig_h=([^,]+), orig_p=(\d+)/\w+, resp_h=([^,]+), resp_p=(\d+)/\w+, proto=(\d+).*\], (1:\S+)`)
	n := 0
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			m := line.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			op, _ := strconv.Atoi(m[2])
			rp, _ := strconv.Atoi(m[4])
			proto, _ := strconv.Atoi(m[5])
			s := schema.Session{Proto: uint8(proto),
				Orig: schema.Endpoint{IP: netip.MustParseAddr(m[1]), Port: uint16(op)},
				Resp: schema.Endpoint{IP: netip.MustParseAddr(m[3]), Port: uint16(rp)}}
			if got := CommunityID(&s, 0); got != m[6] {
				t.Errorf("%s: %s, want %s", sc.Text(), got, m[6])
			}
			n++
		}
		fh.Close()
	}
	// The MANIFEST's UDP example, and http/get.pcap's conn.
	for _, c := range []struct {
		s    schema.Session
		want string
	}{
		{schema.Session{Proto: 17, Orig: schema.Endpoint{IP: netip.MustParseAddr("192.168.1.52"), Port: 54585},
			Resp: schema.Endpoint{IP: netip.MustParseAddr("8.8.8.8"), Port: 53}}, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
		{schema.Session{Proto: 6, Orig: schema.Endpoint{IP: netip.MustParseAddr("141.142.228.5"), Port: 59856},
			Resp: schema.Endpoint{IP: netip.MustParseAddr("192.150.187.43"), Port: 80}}, "1:yvyB8h+3dnggTZW0UEITWCst97w="},
	} {
		if got := CommunityID(&c.s, 0); got != c.want {
			t.Errorf("%v: %s, want %s", c.s.Orig, got, c.want)
		}
		n++
	}
	if n < 15 {
		t.Errorf("only %d vectors checked", n)
	}
}
