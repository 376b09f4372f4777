package devices

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// OS labels form a small tree: evidence for a family ("Unix-like" from a
// TTL of 64, "Linux" from a SYN shape) supports every member, and the
// most specific label with the best combined score is the guess.
var osParents = map[string]string{
	"macOS": "Apple", "iOS": "Apple", "Apple": "Unix-like",
	"Android": "Linux", "ChromeOS": "Linux", "Embedded Linux": "Linux", "Linux": "Unix-like",
	"FreeBSD": "Unix-like", "OpenBSD": "Unix-like", "Solaris": "Unix-like",
	// Roots: Windows, Unix-like, Embedded (RTOS, lwIP, uIP), Network OS.
}

// OSSignal is one entry of the OS tables. Match is what the signal must
// show, in the table's own terms (a TTL, an option layout, a prefix, a
// substring); docs/devices.md lists every entry by Name.
type OSSignal struct {
	Name   string
	OS     string
	Weight float64
	Match  string
	Source string
}

// ttlSignals: stacks start their TTL at 64 (Linux, Android, macOS, iOS,
// BSDs), 128 (Windows), 255 (Cisco IOS and other network OSes, Solaris,
// many RTOSes) or, rarely now, 32 (old Windows 9x, some embedded).
var ttlSignals = []OSSignal{
	{Name: "ttl-32", OS: "Embedded", Weight: 0.2, Match: "32", Source: "p0f 3 ittl notes"},
	{Name: "ttl-64", OS: "Unix-like", Weight: 0.3, Match: "64", Source: "p0f 3 signatures: every unix label has ittl 64"},
	{Name: "ttl-128", OS: "Windows", Weight: 0.4, Match: "128", Source: "p0f 3 signatures: every win label has ittl 128"},
	{Name: "ttl-255", OS: "Network OS", Weight: 0.3, Match: "255", Source: "p0f 3 ittl notes; Cisco IOS defaults"},
}

// tcpSignal matches a SYN (or SYN-ACK) shape "window:mss:wscale:options".
// Options must equal the layout (a trailing "eol" is ignored); Windows,
// when set, lists accepted windows, "mssN" meaning N × MSS. The first
// entry that matches a signature wins.
type tcpSignal struct {
	OSSignal
	SynAck  bool
	Windows []string
}

// tcpSignals were read from p0f 3's p0f.fp [tcp:request] labels (Linux
// 3.x: mss,sok,ts,nop,ws; Windows NT 6: mss,nop,ws,nop,nop,sok with
// window 8192; Mac OS X / iOS: mss,nop,ws,nop,nop,ts,sok,eol with 65535;
// FreeBSD: mss,nop,ws,sok,ts with 65535; OpenBSD; Solaris), with the
// 64240 window (44 × 1460) that Windows 10/11 and Linux ≥ 4.19 send today
// added, and lwIP/uIP's MSS-only SYN for embedded stacks. SYN-ACK shapes
// echo what the client offered, so they weigh less.
var tcpSignals = []tcpSignal{
	{OSSignal{Name: "tcp-windows", OS: "Windows", Weight: 0.6, Match: "mss,nop,ws,nop,nop,sok", Source: "p0f 3 Windows 7/8 and NT kernel 6.x; Windows 10/11 window 64240"}, false, []string{"8192", "64240", "65535", "mss44"}},
	{OSSignal{Name: "tcp-windows-other", OS: "Windows", Weight: 0.4, Match: "mss,nop,ws,nop,nop,sok", Source: "p0f 3 g:win NT kernel catch-all"}, false, nil},
	{OSSignal{Name: "tcp-windows-nows", OS: "Windows", Weight: 0.4, Match: "mss,nop,nop,sok", Source: "p0f 3 Windows XP / NT 5.x, NT 6.x without scaling"}, false, []string{"8192", "16384", "64240", "65535"}},
	{OSSignal{Name: "tcp-windows-ts", OS: "Windows", Weight: 0.35, Match: "mss,nop,ws,sok,ts", Source: "p0f 3 Windows 7/8 with timestamps"}, false, []string{"8192"}},
	{OSSignal{Name: "tcp-freebsd", OS: "FreeBSD", Weight: 0.5, Match: "mss,nop,ws,sok,ts", Source: "p0f 3 FreeBSD 8.x, 9.x"}, false, []string{"65535"}},
	{OSSignal{Name: "tcp-linux", OS: "Linux", Weight: 0.5, Match: "mss,sok,ts,nop,ws", Source: "p0f 3 Linux 2.6 and 3.x (also Android)"}, false, nil},
	{OSSignal{Name: "tcp-linux-nots", OS: "Linux", Weight: 0.35, Match: "mss,nop,nop,sok,nop,ws", Source: "p0f 3 Linux without timestamps"}, false, nil},
	{OSSignal{Name: "tcp-linux-nows", OS: "Linux", Weight: 0.3, Match: "mss,sok,ts", Source: "Linux with window scaling off"}, false, nil},
	{OSSignal{Name: "tcp-apple", OS: "Apple", Weight: 0.6, Match: "mss,nop,ws,nop,nop,ts,sok", Source: "p0f 3 Mac OS X 10.x and iOS"}, false, []string{"65535"}},
	{OSSignal{Name: "tcp-openbsd", OS: "OpenBSD", Weight: 0.5, Match: "mss,nop,nop,sok,nop,ws,nop,nop,ts", Source: "p0f 3 OpenBSD 3.x-5.x"}, false, []string{"16384"}},
	{OSSignal{Name: "tcp-solaris", OS: "Solaris", Weight: 0.4, Match: "nop,ws,nop,nop,ts,nop,nop,sok,mss", Source: "p0f 3 Solaris 10"}, false, nil},
	{OSSignal{Name: "tcp-embedded", OS: "Embedded", Weight: 0.45, Match: "mss", Source: "lwIP and uIP send only MSS"}, false, nil},
	{OSSignal{Name: "tcp-embedded-noopt", OS: "Embedded", Weight: 0.35, Match: "", Source: "no options at all: minimal stacks"}, false, nil},
	{OSSignal{Name: "synack-linux", OS: "Linux", Weight: 0.35, Match: "mss,sok,ts,nop,ws", Source: "Linux answers in its own SYN order"}, true, nil},
	{OSSignal{Name: "synack-linux-nots", OS: "Linux", Weight: 0.3, Match: "mss,nop,nop,sok,nop,ws", Source: "Linux answering a client without timestamps"}, true, nil},
	{OSSignal{Name: "synack-windows", OS: "Windows", Weight: 0.25, Match: "mss,nop,ws,nop,nop,sok", Source: "Windows answering without timestamps"}, true, nil},
	{OSSignal{Name: "synack-embedded", OS: "Embedded", Weight: 0.4, Match: "mss", Source: "lwIP and uIP answer with MSS only"}, true, nil},
}

// dhcpSignals match option 55 (the parameter request list): "=" exact,
// "^" prefix. Clients build it from a fixed table, so it identifies the
// DHCP client and through it the OS. Lists read from Fingerbank's public
// fingerprints and from the clients' sources (lwIP dhcp.c
// dhcp_discover_request_options, BusyBox udhcp OPTION_REQ entries,
// systemd sd-dhcp-client default_req_opts). First match wins.
var dhcpSignals = []OSSignal{
	{Name: "dhcp-windows-10", OS: "Windows", Weight: 0.7, Match: "=1,3,6,15,31,33,43,44,46,47,119,121,249,252", Source: "Fingerbank: Windows 8, 10, 11"},
	{Name: "dhcp-windows-7", OS: "Windows", Weight: 0.65, Match: "^1,15,3,6,44,46,47,31,33", Source: "Fingerbank: Windows XP, Vista, 7"},
	{Name: "dhcp-windows-variant", OS: "Windows", Weight: 0.6, Match: "^1,3,6,15,31,33,43,44,46,47,119,121,249", Source: "Fingerbank: Windows variants"},
	{Name: "dhcp-macos", OS: "macOS", Weight: 0.7, Match: "^1,121,3,6,15,119,252,95,44,46", Source: "Fingerbank: macOS (asks LDAP 95 and NetBIOS 44/46)"},
	{Name: "dhcp-macos-new", OS: "macOS", Weight: 0.7, Match: "^1,121,3,6,15,108,114,119,252,95,44,46", Source: "Fingerbank: macOS 12+"},
	{Name: "dhcp-ios", OS: "iOS", Weight: 0.6, Match: "=1,121,3,6,15,119,252", Source: "Fingerbank: iOS, iPadOS"},
	{Name: "dhcp-ios-new", OS: "iOS", Weight: 0.6, Match: "=1,121,3,6,15,108,114,119,252", Source: "Fingerbank: iOS 15+"},
	{Name: "dhcp-apple", OS: "Apple", Weight: 0.5, Match: "^1,121,3,6,15", Source: "Fingerbank: Apple family"},
	{Name: "dhcp-android", OS: "Android", Weight: 0.7, Match: "^1,3,6,15,26,28,51,58,59", Source: "Fingerbank: Android 5 and later"},
	{Name: "dhcp-android-old", OS: "Android", Weight: 0.6, Match: "^1,33,3,6,15,28,51,58,59", Source: "Fingerbank: Android 2-4 (dhcpcd)"},
	{Name: "dhcp-dhclient", OS: "Linux", Weight: 0.6, Match: "=1,28,2,3,15,6,119,12,44,47,26,121,42", Source: "Fingerbank: ISC dhclient (Debian, Ubuntu, RHEL NetworkManager)"},
	{Name: "dhcp-dhclient-variant", OS: "Linux", Weight: 0.5, Match: "^1,28,2,", Source: "ISC dhclient asks time offset (2) early"},
	{Name: "dhcp-systemd", OS: "Linux", Weight: 0.45, Match: "^1,3,12,15,6", Source: "systemd sd-dhcp-client default_req_opts order"},
	{Name: "dhcp-udhcpc", OS: "Embedded Linux", Weight: 0.5, Match: "^1,3,6,12,15,28", Source: "BusyBox udhcpc OPTION_REQ order"},
	{Name: "dhcp-lwip", OS: "Embedded", Weight: 0.55, Match: "^1,3,28,6", Source: "lwIP dhcp_discover_request_options (ESP8266, ESP32, many RTOS devices)"},
	{Name: "dhcp-minimal", OS: "Embedded", Weight: 0.3, Match: "=1,3,6", Source: "minimal clients"},
	{Name: "dhcp-minimal-2", OS: "Embedded", Weight: 0.3, Match: "=1,3", Source: "minimal clients"},
}

// dhcpVendorSignals match option 60 (vendor class), by prefix.
var dhcpVendorSignals = []OSSignal{
	{Name: "vc-msft", OS: "Windows", Weight: 0.6, Match: "MSFT", Source: "Windows sends \"MSFT 5.0\""},
	{Name: "vc-android", OS: "Android", Weight: 0.8, Match: "android-dhcp-", Source: "Android's DHCP client"},
	{Name: "vc-dhcpcd", OS: "Linux", Weight: 0.45, Match: "dhcpcd-", Source: "dhcpcd (Raspberry Pi OS, Gentoo, old Android)"},
	{Name: "vc-udhcp", OS: "Embedded Linux", Weight: 0.5, Match: "udhcp", Source: "BusyBox udhcpc \"udhcp 1.x\""},
	{Name: "vc-ubnt", OS: "Network OS", Weight: 0.4, Match: "ubnt", Source: "Ubiquiti firmware"},
}

// userAgentSignals match HTTP User-Agents by substring, in order (iPhone
// before "Mac OS X": iOS agents say "like Mac OS X").
var userAgentSignals = []OSSignal{
	{Name: "ua-android", OS: "Android", Weight: 0.6, Match: "Android"},
	{Name: "ua-iphone", OS: "iOS", Weight: 0.6, Match: "iPhone"},
	{Name: "ua-ipad", OS: "iOS", Weight: 0.6, Match: "iPad"},
	{Name: "ua-cros", OS: "ChromeOS", Weight: 0.6, Match: "CrOS"},
	{Name: "ua-windows", OS: "Windows", Weight: 0.5, Match: "Windows NT"},
	{Name: "ua-windows-svc", OS: "Windows", Weight: 0.5, Match: "Microsoft-"},
	{Name: "ua-windows-update", OS: "Windows", Weight: 0.5, Match: "Windows-Update-Agent"},
	{Name: "ua-macos", OS: "macOS", Weight: 0.5, Match: "Macintosh"},
	{Name: "ua-darwin", OS: "Apple", Weight: 0.4, Match: "Darwin/"},
	{Name: "ua-linux", OS: "Linux", Weight: 0.4, Match: "X11; Linux"},
	{Name: "ua-ubuntu", OS: "Linux", Weight: 0.4, Match: "Ubuntu"},
}

// sshSignals match SSH identification strings by substring.
var sshSignals = []OSSignal{
	{Name: "ssh-windows", OS: "Windows", Weight: 0.5, Match: "OpenSSH_for_Windows"},
	{Name: "ssh-ubuntu", OS: "Linux", Weight: 0.5, Match: "Ubuntu"},
	{Name: "ssh-debian", OS: "Linux", Weight: 0.5, Match: "Debian"},
	{Name: "ssh-raspbian", OS: "Linux", Weight: 0.5, Match: "Raspbian"},
	{Name: "ssh-freebsd", OS: "FreeBSD", Weight: 0.5, Match: "FreeBSD"},
	{Name: "ssh-dropbear", OS: "Embedded Linux", Weight: 0.45, Match: "dropbear"},
	{Name: "ssh-cisco", OS: "Network OS", Weight: 0.6, Match: "Cisco-"},
	{Name: "ssh-routeros", OS: "Network OS", Weight: 0.6, Match: "ROSSSH"},
	{Name: "ssh-openssh", OS: "Unix-like", Weight: 0.2, Match: "OpenSSH"},
}

// hostnameSignals match names (lower case) by substring.
var hostnameSignals = []OSSignal{
	{Name: "host-iphone", OS: "iOS", Weight: 0.5, Match: "iphone"},
	{Name: "host-ipad", OS: "iOS", Weight: 0.5, Match: "ipad"},
	{Name: "host-macbook", OS: "macOS", Weight: 0.5, Match: "macbook"},
	{Name: "host-imac", OS: "macOS", Weight: 0.5, Match: "imac"},
	{Name: "host-android", OS: "Android", Weight: 0.45, Match: "android-"},
	{Name: "host-galaxy", OS: "Android", Weight: 0.4, Match: "galaxy"},
	{Name: "host-windows", OS: "Windows", Weight: 0.5, Match: "desktop-"},
	{Name: "host-windows-laptop", OS: "Windows", Weight: 0.5, Match: "laptop-"},
	{Name: "host-raspberrypi", OS: "Linux", Weight: 0.4, Match: "raspberrypi"},
	{Name: "host-esp", OS: "Embedded", Weight: 0.4, Match: "esp_"},
	{Name: "host-espressif", OS: "Embedded", Weight: 0.4, Match: "espressif"},
}

// domainSignals match names the device looked up or connected to (DNS
// queries, SNIs, HTTP hosts): the connectivity checks and update
// services each OS calls home to.
var domainSignals = []OSSignal{
	{Name: "dom-windows-ncsi", OS: "Windows", Weight: 0.4, Match: "msftconnecttest.com"},
	{Name: "dom-windows-ncsi-old", OS: "Windows", Weight: 0.4, Match: "msftncsi.com"},
	{Name: "dom-windows-update", OS: "Windows", Weight: 0.4, Match: "windowsupdate.com"},
	{Name: "dom-apple-captive", OS: "Apple", Weight: 0.35, Match: "captive.apple.com"},
	{Name: "dom-apple-update", OS: "Apple", Weight: 0.35, Match: "mesu.apple.com"},
	{Name: "dom-android-check", OS: "Android", Weight: 0.35, Match: "connectivitycheck.android.com"},
	{Name: "dom-gstatic-check", OS: "Android", Weight: 0.3, Match: "connectivitycheck.gstatic.com"},
	{Name: "dom-ubuntu", OS: "Linux", Weight: 0.35, Match: "ubuntu.com"},
	{Name: "dom-debian", OS: "Linux", Weight: 0.3, Match: "debian.org"},
}

// hintSignals map request hints (inventory.go) to an OS.
var hintSignals = []OSSignal{
	{Name: "hint-ncsi", OS: "Windows", Weight: 0.4, Match: "windows-ncsi"},
	{Name: "hint-generate204", OS: "Android", Weight: 0.3, Match: "android-connectivity"},
	{Name: "hint-apple-captive", OS: "Apple", Weight: 0.35, Match: "apple-captive"},
}

// serverBannerSignals match the HTTP Server headers a device sent.
var serverBannerSignals = []OSSignal{
	{Name: "srv-iis", OS: "Windows", Weight: 0.45, Match: "Microsoft-IIS"},
	{Name: "srv-httpapi", OS: "Windows", Weight: 0.4, Match: "Microsoft-HTTPAPI"},
	{Name: "srv-win", OS: "Windows", Weight: 0.4, Match: "(Win"},
	{Name: "srv-ubuntu", OS: "Linux", Weight: 0.4, Match: "(Ubuntu)"},
	{Name: "srv-debian", OS: "Linux", Weight: 0.4, Match: "(Debian)"},
	{Name: "srv-rhel", OS: "Linux", Weight: 0.4, Match: "(Red Hat"},
	{Name: "srv-centos", OS: "Linux", Weight: 0.4, Match: "(CentOS)"},
}

type osVote struct {
	os string
	ev Evidence
}

// GuessOS derives the OS guess from a profile's fingerprints. Each
// matching table entry is a piece of evidence; a label's score is the
// noisy-OR of its own evidence and its families' (1 − Π(1 − w)); the
// most specific label with the highest score wins, and its confidence is
// that score less half the best score of a contradicting label.
func GuessOS(p *Profile) *Guess {
	var votes []osVote
	add := func(sig *OSSignal, rule, detail string) {
		votes = append(votes, osVote{sig.OS, Evidence{Rule: "os." + rule + ":" + sig.Name, Detail: detail, Score: sig.Weight}})
	}
	if p.TTL != nil {
		for i := range ttlSignals {
			if ttlSignals[i].Match == fmt.Sprint(p.TTL.Initial) {
				add(&ttlSignals[i], "ttl", fmt.Sprintf("initial TTL %d in %d sessions", p.TTL.Initial, p.TTL.Sessions[fmt.Sprint(p.TTL.Initial)]))
			}
		}
	}
	for _, s := range p.TCPSigs {
		if sig := matchTCP(s.Sig, s.SynAck); sig != nil {
			what := "SYN"
			if s.SynAck {
				what = "SYN-ACK"
			}
			add(&sig.OSSignal, "tcp", fmt.Sprintf("%s %s (%s)", what, s.Sig, sig.Source))
		}
	}
	if h := p.DHCP; h != nil {
		if h.ParamList != "" {
			for i := range dhcpSignals {
				sig := &dhcpSignals[i]
				if matchPRL(sig.Match, h.ParamList) {
					add(sig, "dhcp", fmt.Sprintf("DHCP parameter list %s (%s)", h.ParamList, sig.Source))
					break
				}
			}
		}
		if h.VendorClass != "" {
			for i := range dhcpVendorSignals {
				if sig := &dhcpVendorSignals[i]; strings.HasPrefix(h.VendorClass, sig.Match) {
					add(sig, "dhcp_vendor", fmt.Sprintf("DHCP vendor class %q", h.VendorClass))
					break
				}
			}
		}
	}
	firstMatch := func(list []OSSignal, rule string, values []string, fold bool, what string) {
		for _, v := range values {
			hay := v
			if fold {
				hay = strings.ToLower(v)
			}
			for i := range list {
				if strings.Contains(hay, list[i].Match) {
					add(&list[i], rule, fmt.Sprintf("%s %q", what, v))
					break
				}
			}
		}
	}
	firstMatch(userAgentSignals, "user_agent", p.UserAgents, false, "User-Agent")
	firstMatch(sshSignals, "ssh", p.SSH, false, "SSH banner")
	firstMatch(serverBannerSignals, "http_server", p.HTTPServers, false, "HTTP Server")
	names := make([]string, 0, len(p.Names))
	for _, n := range p.Names {
		names = append(names, n.Name)
	}
	firstMatch(hostnameSignals, "hostname", names, true, "name")
	for _, dom := range domainsOf(p) {
		for i := range domainSignals {
			if domainMatch(dom, domainSignals[i].Match) {
				add(&domainSignals[i], "domain", fmt.Sprintf("contacted %s", dom))
				break
			}
		}
	}
	for _, h := range p.Hints {
		for i := range hintSignals {
			if h.Tag == hintSignals[i].Match {
				add(&hintSignals[i], "hint", fmt.Sprintf("request hint %s ×%d", h.Tag, h.Count))
			}
		}
	}
	return bestOS(dedupeVotes(votes))
}

// dedupeVotes keeps one piece of evidence per table entry (the first), so
// that ten Windows User-Agents do not make Windows ten times likelier.
func dedupeVotes(votes []osVote) []osVote {
	seen := map[string]bool{}
	out := votes[:0]
	for _, v := range votes {
		if !seen[v.ev.Rule] {
			seen[v.ev.Rule] = true
			out = append(out, v)
		}
	}
	return out
}

func osChain(os string) []string {
	var chain []string
	for l := os; l != ""; l = osParents[l] {
		chain = append(chain, l)
	}
	return chain
}

func bestOS(votes []osVote) *Guess {
	if len(votes) == 0 {
		return nil
	}
	labels := map[string]bool{}
	for _, v := range votes {
		labels[v.os] = true
	}
	type cand struct {
		os    string
		depth int
		score float64
		ev    []Evidence
	}
	var cands []cand
	for l := range labels {
		chain := osChain(l)
		c := cand{os: l, depth: len(chain)}
		miss := 1.0
		for _, v := range votes {
			if slices.Contains(chain, v.os) {
				miss *= 1 - v.ev.Score
				c.ev = append(c.ev, v.ev)
			}
		}
		c.score = 1 - miss
		cands = append(cands, c)
	}
	slices.SortFunc(cands, func(a, b cand) int {
		switch {
		case a.score != b.score:
			if a.score > b.score {
				return -1
			}
			return 1
		case a.depth != b.depth:
			return b.depth - a.depth
		}
		return strings.Compare(a.os, b.os)
	})
	best := cands[0]
	g := &Guess{Name: best.os, Evidence: best.ev}
	bestChain := osChain(best.os)
	for _, c := range cands[1:] {
		// Families of the guess and their members agree with it.
		if slices.Contains(bestChain, c.os) || slices.Contains(osChain(c.os), best.os) {
			continue
		}
		g.RunnerUp, g.RunnerUpScore = c.os, round2(c.score)
		break
	}
	g.Confidence = round2(math.Max(0, best.score-g.RunnerUpScore/2))
	return g
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// matchTCP finds the first table entry for a "window:mss:wscale:options"
// signature.
func matchTCP(sig string, synAck bool) *tcpSignal {
	parts := strings.SplitN(sig, ":", 4)
	if len(parts) != 4 {
		return nil
	}
	win, mss, opts := parts[0], parts[1], strings.TrimSuffix(parts[3], ",eol")
	if opts == "eol" {
		opts = ""
	}
	for i := range tcpSignals {
		t := &tcpSignals[i]
		if t.SynAck != synAck || t.Match != opts {
			continue
		}
		if t.Windows == nil || slices.ContainsFunc(t.Windows, func(w string) bool { return windowMatch(w, win, mss) }) {
			return t
		}
	}
	return nil
}

func windowMatch(want, win, mss string) bool {
	if n, ok := strings.CutPrefix(want, "mss"); ok {
		var k, m, w int
		if _, err := fmt.Sscan(n, &k); err != nil {
			return false
		}
		if _, err := fmt.Sscan(mss, &m); err != nil || m == 0 {
			return false
		}
		if _, err := fmt.Sscan(win, &w); err != nil {
			return false
		}
		return w == k*m
	}
	return want == win
}

func matchPRL(pattern, prl string) bool {
	switch {
	case strings.HasPrefix(pattern, "="):
		return prl == pattern[1:]
	case strings.HasPrefix(pattern, "^"):
		return strings.HasPrefix(prl, pattern[1:]) && (len(prl) == len(pattern)-1 || strings.HasSuffix(pattern, ",") || prl[len(pattern)-1] == ',')
	}
	return false
}

// domainsOf lists, lower-cased, the names a device looked up or
// connected to.
func domainsOf(p *Profile) []string {
	var out []string
	for _, l := range [][]string{p.DNSQueries, p.SNI, p.HTTPHosts} {
		for _, d := range l {
			d = strings.TrimSuffix(strings.ToLower(d), ".")
			if h, _, ok := strings.Cut(d, ":"); ok { // Host: with a port
				d = h
			}
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}

// domainMatch reports whether dom is pattern or a subdomain of it; a "*"
// label in pattern matches any one label.
func domainMatch(dom, pattern string) bool {
	if !strings.Contains(pattern, "*") {
		return dom == pattern || strings.HasSuffix(dom, "."+pattern)
	}
	pl := strings.Split(pattern, ".")
	dl := strings.Split(dom, ".")
	if len(dl) < len(pl) {
		return false
	}
	dl = dl[len(dl)-len(pl):]
	for i := range pl {
		if pl[i] != "*" && pl[i] != dl[i] {
			return false
		}
	}
	return true
}
