// SSH identification strings (RFC 4253 section 4.2): one line, read by
// hand since it is the only cleartext of the protocol worth keeping.

package dpi

import (
	"bytes"
	"strings"

	"github.com/osprey-ndr/osprey/internal/schema"
)

var (
	ssh2  = []byte("SSH-2.0-")
	ssh19 = []byte("SSH-1.99-")
	ssh1  = []byte("SSH-1.")
)

var sshAnalyzer = Analyzer{
	App: "ssh", Proto: 6, Ports: []uint16{22, 2222},
	Match: func(f *Flow) float64 {
		c, s := isSSHIdent(f.Orig.Data), isSSHIdent(f.Resp.Data)
		switch {
		case c && s:
			return 0.95
		case c || s:
			return 0.85
		}
		return 0
	},
	Decode: func(f *Flow, l7 *schema.L7) {
		l7.SSH = &schema.SSH{Client: sshIdent(f.Orig.Data), Server: sshIdent(f.Resp.Data)}
	},
	// Enough: both identification lines are whole (a server may send
	// other lines first).
	Enough: func(f *Flow) bool { return sshLineDone(f.Orig.Data) && sshLineDone(f.Resp.Data) },
}

func sshLineDone(b []byte) bool {
	i := 0
	if !bytes.HasPrefix(b, []byte("SSH-")) {
		if i = bytes.Index(b, []byte("\nSSH-")); i < 0 {
			return false
		}
	}
	return bytes.IndexByte(b[i+1:], '\n') >= 0
}

func isSSHIdent(b []byte) bool {
	return bytes.HasPrefix(b, ssh2) || bytes.HasPrefix(b, ssh19) || bytes.HasPrefix(b, ssh1)
}

// sshIdent returns the "SSH-…" line of a side without its CR LF. A server
// may send other lines before it; the line is at most 255 bytes.
func sshIdent(b []byte) string {
	for range 16 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if bytes.HasPrefix(line, []byte("SSH-")) {
			line = bytes.TrimRight(line[:min(len(line), 255)], "\r")
			return strings.ToValidUTF8(string(line), "?")
		}
		if len(b) == 0 {
			break
		}
	}
	return ""
}
