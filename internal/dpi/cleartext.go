// FTP (RFC 959) and Telnet (RFC 854), the classic protocols that send
// credentials in the clear. Both are line-oriented text read by hand: no
// library parses the passive view of a control connection.

package dpi

import (
	"bytes"
	"strings"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// ftpCommands start a client's conversation (RFC 959, 2228, 2389).
var ftpCommands = [][]byte{
	[]byte("USER"), []byte("AUTH"), []byte("FEAT"), []byte("SYST"), []byte("OPTS"),
	[]byte("PASS"), []byte("HOST"), []byte("CLNT"), []byte("PASV"), []byte("EPSV"),
}

var ftpAnalyzer = Analyzer{
	App: "ftp", Proto: 6, Ports: []uint16{21},
	Match: func(f *Flow) float64 {
		greeting := len(f.Resp.Data) >= 4 && bytes.HasPrefix(f.Resp.Data, []byte("220")) &&
			(f.Resp.Data[3] == ' ' || f.Resp.Data[3] == '-')
		first := firstLine(f.Resp.Data)
		cmd := isFTPCommand(f.Orig.Data)
		switch {
		case greeting && cmd:
			return 0.95
		case greeting && len(f.Orig.Data) == 0 && containsFold(first, []byte("ftp")):
			return 0.7
		case cmd && len(f.Resp.Data) == 0:
			return 0.5
		}
		return 0 // "220" then EHLO is SMTP
	},
	Decode: decodeFTP,
	// Enough: the client sent its password, the server let it in or
	// accepted AUTH (TLS follows).
	Enough: func(f *Flow) bool {
		return hasLineFold(f.Orig.Data, []byte("pass")) || hasLineFold(f.Resp.Data, []byte("230")) ||
			hasLineFold(f.Resp.Data, []byte("234"))
	},
}

// hasLineFold reports a line starting with the lower-case prefix, in any
// case, without allocating.
func hasLineFold(b, prefix []byte) bool {
	for len(b) > 0 {
		if len(b) >= len(prefix) && bytes.EqualFold(b[:len(prefix)], prefix) {
			return true
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return false
		}
		b = b[i+1:]
	}
	return false
}

// firstLine returns b up to its first line feed.
func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// isFTPCommand checks the first client line for a known command followed
// by a space or the end of the line.
func isFTPCommand(b []byte) bool {
	if len(b) < 6 {
		return false
	}
	for _, c := range ftpCommands {
		if bytes.EqualFold(b[:4], c) {
			return b[4] == ' ' || b[4] == '\r' || b[4] == '\n'
		}
	}
	return false
}

// decodeFTP reads the client's commands up to AUTH when the server
// accepted it (code 234: what follows is TLS).
func decodeFTP(f *Flow, l7 *schema.L7) {
	tlsUpgrade := bytes.HasPrefix(f.Resp.Data, []byte("234")) || bytes.Contains(f.Resp.Data, []byte("\n234"))
	c := &schema.Cleartext{Protocol: "ftp"}
read:
	for _, line := range lines(f.Orig.Data, 64) {
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "USER":
			setOnce(&c.User, arg)
		case "PASS":
			c.Password = true
		case "AUTH":
			if tlsUpgrade {
				break read
			}
		}
	}
	if c.User != "" || c.Password {
		l7.Cleartext = c
	}
}

// lines splits b at CR, LF or NUL into at most n non-empty lines.
func lines(b []byte, n int) []string {
	var out []string
	for len(b) > 0 && len(out) < n {
		i := bytes.IndexAny(b, "\r\n\x00")
		if i < 0 {
			i = len(b)
		}
		if i > 0 {
			out = append(out, strings.ToValidUTF8(string(b[:i]), "?"))
		}
		b = b[min(i+1, len(b)):]
	}
	return out
}

// Telnet commands.
const (
	telnetSE   = 240
	telnetSB   = 250
	telnetWILL = 251
	telnetDONT = 254
	telnetIAC  = 255
)

var telnetAnalyzer = Analyzer{
	App: "telnet", Proto: 6, Ports: []uint16{23},
	Match: func(f *Flow) float64 {
		c, s := isTelnetNegotiation(f.Orig.Data), isTelnetNegotiation(f.Resp.Data)
		switch {
		case c && s:
			return 0.95
		case c || s:
			return 0.85
		}
		return 0
	},
	Decode: decodeTelnet,
	// Enough is never: the prompts and the typed credentials come many
	// packets after the negotiation, so the flow buffers all it may.
	Enough: func(*Flow) bool { return false },
}

// isTelnetNegotiation: the side opens with IAC WILL/WONT/DO/DONT or IAC
// SB and an assigned option code (0 to 49, or 255 for the extended list).
func isTelnetNegotiation(b []byte) bool {
	return len(b) >= 3 && b[0] == telnetIAC && (b[1] >= telnetWILL && b[1] <= telnetDONT || b[1] == telnetSB) &&
		(b[2] <= 49 || b[2] == 255)
}

// telnetText removes the IAC sequences of a side, applies backspaces and
// keeps the text.
func telnetText(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == telnetIAC && i+1 < len(b) && b[i+1] == telnetIAC:
			out = append(out, telnetIAC)
			i++
		case c == telnetIAC && i+1 < len(b) && b[i+1] == telnetSB:
			end := bytes.Index(b[i:], []byte{telnetIAC, telnetSE})
			if end < 0 {
				return out
			}
			i += end + 1
		case c == telnetIAC && i+1 < len(b) && b[i+1] >= telnetWILL:
			i += 2
		case c == telnetIAC:
			i++
		case c == 8 || c == 0x7f:
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, c)
		}
	}
	return out
}

var (
	loginPrompts    = []string{"login:", "username:", "user name:", "user:"}
	passwordPrompts = []string{"password:", "passcode:"}
)

// decodeTelnet guesses credentials, best effort: the capture has the two
// directions apart and no timing, so the first line the client typed
// after a login prompt is taken for the user name (or, when the client
// sent characters past the buffer limit, the server's echo after the
// prompt), and a second line after a password prompt for the password.
func decodeTelnet(f *Flow, l7 *schema.L7) {
	server := telnetText(f.Resp.Data)
	lower := string(asciiLower(server)) // same length: offsets apply to server
	client := lines(telnetText(f.Orig.Data), 8)
	login := indexAny(lower, loginPrompts)
	pass := indexAny(lower, passwordPrompts)
	c := &schema.Cleartext{Protocol: "telnet"}
	switch {
	case login >= 0 && (pass < 0 || login < pass):
		if len(client) > 0 {
			c.User = client[0]
		} else if _, echo, ok := bytes.Cut(firstLine(server[login:]), []byte(":")); ok {
			c.User = strings.ToValidUTF8(string(bytes.TrimSpace(echo)), "?")
		}
		c.Password = pass >= 0 && len(client) > 1
	case pass >= 0:
		c.Password = len(client) > 0
	default:
		return
	}
	if c.User != "" || c.Password {
		l7.Cleartext = c
	}
}

// asciiLower lower-cases A to Z only, so that offsets stay valid.
func asciiLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// indexAny returns the first position of any of the patterns in s, or -1.
func indexAny(s string, patterns []string) int {
	best := -1
	for _, p := range patterns {
		if i := strings.Index(s, p); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best
}
