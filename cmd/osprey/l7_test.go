package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

// zeekLog reads a Zeek TSV log into rows keyed by field name.
func zeekLog(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var fields []string
	var rows []map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "#fields\t"); ok {
			fields = strings.Split(rest, "\t")
		}
		if strings.HasPrefix(line, "#") || fields == nil {
			continue
		}
		row := map[string]string{}
		for i, v := range strings.Split(line, "\t") {
			row[fields[i]] = v
		}
		rows = append(rows, row)
	}
	return rows
}

// readL7 runs osprey read and indexes the sessions by 5-tuple
// "orig_h orig_p resp_h resp_p" as Zeek writes it.
func readL7(t *testing.T, pcap string) map[string]*schema.Session {
	t.Helper()
	stdout, stderr, err := osprey(t, "read", "--output", "json", pcap)
	if err != nil {
		t.Fatalf("read %s: %v\n%s", pcap, err, stderr)
	}
	out := map[string]*schema.Session{}
	for _, s := range parseSessions(t, stdout) {
		out[fmt.Sprintf("%s %d %s %d", s.Orig.IP, s.Orig.Port, s.Resp.IP, s.Resp.Port)] = &s
	}
	return out
}

func tuple(r map[string]string) string {
	return r["id.orig_h"] + " " + r["id.orig_p"] + " " + r["id.resp_h"] + " " + r["id.resp_p"]
}

// TestL7AgainstZeek compares the decoded application fields with what
// Zeek's analyzers logged for its own test traces: every DNS query,
// HTTP request, TLS handshake and DHCP exchange Zeek saw.
func TestL7AgainstZeek(t *testing.T) {
	root := filepath.Join(testutil.SharedTestdata(t), "zeek")
	check := func(t *testing.T, what, got, want string) {
		t.Helper()
		if want != "-" && got != want {
			t.Errorf("%s = %q, Zeek %q", what, got, want)
		}
	}
	t.Run("dns", func(t *testing.T) {
		sessions := readL7(t, filepath.Join(root, "wikipedia", "wikipedia.pcap"))
		queries := map[string][]string{} // Zeek logs each query; a session keeps its first
		for _, r := range zeekLog(t, filepath.Join(root, "wikipedia", "dns.log")) {
			queries[tuple(r)] = append(queries[tuple(r)], r["query"])
		}
		for k, qs := range queries {
			s := sessions[k]
			if s == nil || s.L7 == nil || s.L7.DNS == nil {
				t.Errorf("%s: no DNS metadata; Zeek saw %v", k, qs)
				continue
			}
			if !slices.Contains(qs, s.L7.DNS.Query) {
				t.Errorf("%s: query %q not among Zeek's %v", k, s.L7.DNS.Query, qs)
			}
		}
	})
	t.Run("http", func(t *testing.T) {
		for _, c := range [][2]string{{"wikipedia", "wikipedia.pcap"}, {"http-get", "get.pcap"}, {"vxlan-http", "vxlan-encapsulated-http.pcap"}} {
			sessions := readL7(t, filepath.Join(root, c[0], c[1]))
			for _, r := range zeekLog(t, filepath.Join(root, c[0], "http.log")) {
				s := sessions[tuple(r)]
				if r["trans_depth"] != "1" {
					continue // the session keeps its first request
				}
				if s == nil || s.L7 == nil || s.L7.HTTP == nil {
					t.Errorf("%s %s: no HTTP metadata", c[0], tuple(r))
					continue
				}
				h := s.L7.HTTP
				check(t, tuple(r)+" method", h.Method, r["method"])
				check(t, tuple(r)+" host", h.Host, r["host"])
				check(t, tuple(r)+" uri", h.URI, r["uri"])
				check(t, tuple(r)+" user_agent", h.UserAgent, r["user_agent"])
				check(t, tuple(r)+" status", fmt.Sprint(h.Status), r["status_code"])
			}
		}
	})
	t.Run("tls", func(t *testing.T) {
		for _, dir := range []string{"tls-sni-basic", "tls13-sni", "tls-google-repeat"} {
			pcaps, _ := filepath.Glob(filepath.Join(root, dir, "*.pcap"))
			sessions := readL7(t, pcaps[0])
			for _, r := range zeekLog(t, filepath.Join(root, dir, "ssl.log")) {
				s := sessions[tuple(r)]
				if s == nil || s.L7 == nil || s.L7.TLS == nil || s.App != "tls" {
					t.Errorf("%s %s: no TLS metadata", dir, tuple(r))
					continue
				}
				tl := s.L7.TLS
				check(t, tuple(r)+" sni", tl.SNI, r["server_name"])
				check(t, tuple(r)+" version", tl.Version, r["version"])
				check(t, tuple(r)+" cipher", tl.Cipher, r["cipher"])
				if fps := r["cert_chain_fps"]; fps != "-" && fps != "(empty)" {
					if tl.Cert == nil {
						t.Errorf("%s: no certificate; Zeek saw %s", tuple(r), fps)
					} else {
						check(t, tuple(r)+" leaf sha256", tl.Cert.SHA256, strings.Split(fps, ",")[0])
					}
				}
			}
		}
	})
	t.Run("dhcp", func(t *testing.T) {
		for _, c := range [][2]string{{"dhcp", "dhcp.pcap"}, {"dhcp-discover", "dhcp_discover_param_req_and_client_id.pcap"}} {
			sessions := readL7(t, filepath.Join(root, c[0], c[1]))
			for _, r := range zeekLog(t, filepath.Join(root, c[0], "dhcp.log")) {
				if r["host_name"] == "-" {
					continue
				}
				found := false
				for _, s := range sessions {
					if d := s.L7; d != nil && d.DHCP != nil && d.DHCP.Hostname == r["host_name"] && d.DHCP.ClientMAC == r["mac"] {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: no DHCP session with host name %s and MAC %s", c[0], r["host_name"], r["mac"])
				}
			}
		}
	})
}

// TestL7AgainstSuricata checks the application fields Suricata's own
// test suite expects (suricata-verify test.yaml) for the same captures.
func TestL7AgainstSuricata(t *testing.T) {
	root := filepath.Join(testutil.SharedTestdata(t), "suricata-verify")
	tests := []struct {
		dir, pcap, tuple string
		check            func(l7 *schema.L7) bool
	}{
		{"community-id-ipv4", "input.pcap", "172.26.0.39 35958 172.217.14.206 443",
			func(l *schema.L7) bool {
				return l.TLS != nil && l.TLS.SNI == "ipv4.google.com" && l.TLS.Version == "TLSv13"
			}},
		{"community-id-ipv6", "input.pcap", "2600:1f13:f8:d400:3a6:303c:e011:18eb 60202 2607:f8b0:400a:800::200e 443",
			func(l *schema.L7) bool { return l.TLS != nil && l.TLS.SNI == "ipv6.google.com" }},
		{"community-id-ipv6", "input.pcap", "2600:1f13:f8:d400:3a6:303c:e011:18eb 33892 2001:4860:4860::8888 443",
			func(l *schema.L7) bool { return l.TLS != nil && l.TLS.SNI == "dns.google" }},
		{"tls_tls13-draft28", "tls13_draft28.pcap", "",
			func(l *schema.L7) bool {
				return l.TLS != nil && l.TLS.SNI == "localhost" && l.TLS.Version == "TLSv13-draft28"
			}},
		{"cond-log-dns-dig", "input.pcap", "10.16.1.11 41805 10.16.1.1 53",
			func(l *schema.L7) bool {
				d := l.DNS
				return d != nil && d.ID == 36146 && d.Query == "www.suricata-ids.org" && d.QType == "A" && d.RCode == "NOERROR" &&
					slices.Equal(d.Answers, []string{"suricata-ids.org", "192.0.78.24", "192.0.78.25"})
			}},
		{"dhcp-eve-extended", "input.pcap", "10.16.1.4 68 10.16.1.1 67",
			func(l *schema.L7) bool {
				d := l.DHCP
				return d != nil && d.Hostname == "nas1" && d.ClientMAC == "00:11:32:17:49:f0" && d.Assigned == "10.16.1.4" && d.LeaseSecs == 3600
			}},
		{"bug-814", "input.pcap", "fe80::20c:29ff:fef3:cf38 58307 fe80::20c:29ff:faf2:ab42 80",
			func(l *schema.L7) bool {
				h := l.HTTP
				return h != nil && h.Host == "www.net1.bg" && h.Method == "GET" && h.URI == "/cgi-bin/cart32.exe" && strings.Contains(h.UserAgent, "Nikto")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			sessions := readL7(t, filepath.Join(root, tc.dir, tc.pcap))
			var s *schema.Session
			for k, v := range sessions {
				if k == tc.tuple || (tc.tuple == "" && v.App == "tls") {
					s = v
				}
			}
			if s == nil || s.L7 == nil || !tc.check(s.L7) {
				var got any = s
				if s != nil {
					got = s.L7
				}
				t.Errorf("%s: app metadata %+v does not match Suricata's expectations", tc.tuple, got)
				if s != nil && s.L7 != nil {
					t.Logf("tls %+v dns %+v dhcp %+v http %+v", s.L7.TLS, s.L7.DNS, s.L7.DHCP, s.L7.HTTP)
				}
			}
		})
	}
}
