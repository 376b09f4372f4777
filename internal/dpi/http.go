// HTTP/1.x, parsed by hand: net/http's readers allocate a 4 KiB buffer
// and a header map per message, which cost more than the rest of the
// pipeline for a flow; this needs the start line and four headers only.
// A head cut at the buffer limit keeps the headers that arrived whole.

package dpi

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strconv"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// isHTTPMethod reports the request methods Match accepts (RFC 9110 and
// WebDAV). NOTIFY and M-SEARCH are left to SSDP.
func isHTTPMethod(m []byte) bool {
	switch string(m) { // no allocation: the compiler compares the bytes
	case "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
		"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT":
		return true
	}
	return false
}

// maxMethod is the longest method isHTTPMethod accepts.
const maxMethod = len("PROPPATCH")

var (
	http1    = []byte(" HTTP/1.")
	http1Rsp = []byte("HTTP/1.")
)

var httpAnalyzer = Analyzer{
	App: "http", Proto: 6, Ports: []uint16{80, 8000, 8008, 8080},
	Match: func(f *Flow) float64 {
		req, rsp := isHTTPRequest(f.Orig.Data), isHTTPResponse(f.Resp.Data)
		switch {
		case req && rsp:
			return 0.95
		case req:
			return 0.9
		case rsp:
			return 0.7
		}
		return 0
	},
	Decode: decodeHTTP,
	NewL7:  newHTTPL7,
	// Enough: the first request's and response's heads are whole.
	Enough: func(f *Flow) bool {
		return bytes.Contains(f.Orig.Data, crlf2) && bytes.Contains(f.Resp.Data, crlf2)
	},
}

var crlf2 = []byte("\r\n\r\n")

// isHTTPRequest looks for "METHOD URI HTTP/1." on the first line, or a
// long URI that the buffer limit cut.
func isHTTPRequest(b []byte) bool {
	sp := bytes.IndexByte(b[:min(len(b), maxMethod+1)], ' ')
	if sp < 0 || !isHTTPMethod(b[:sp]) {
		return false
	}
	rest := b[sp+1:]
	if len(rest) == 0 || rest[0] == ' ' {
		return false
	}
	line, nl := rest, bytes.IndexByte(rest, '\n')
	if nl >= 0 {
		line = rest[:nl]
	}
	if sp := bytes.IndexByte(line, ' '); sp >= 0 {
		return bytes.HasPrefix(line[sp:], http1)
	}
	return nl < 0 && len(rest) >= 1024 // a long URI cut at the buffer limit
}

// isHTTPResponse checks for "HTTP/1.x NNN".
func isHTTPResponse(b []byte) bool {
	return len(b) >= 12 && bytes.HasPrefix(b, http1Rsp) && (b[7] == '0' || b[7] == '1') && b[8] == ' ' &&
		isDigit(b[9]) && isDigit(b[10]) && isDigit(b[11])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func decodeHTTP(f *Flow, l7 *schema.L7) {
	h := record(l7.HTTP)
	for data, first := f.Orig.Data, true; isHTTPRequest(data); first = false {
		hd := parseHTTPHead(data)
		if first {
			method, rest, _ := bytes.Cut(hd.line, []byte(" "))
			uri, _, _ := bytes.Cut(rest, []byte(" "))
			h.Method, h.URI = f.strs.str(method), string(uri) // URIs seldom repeat
			h.Host, h.UserAgent = f.strs.str(hd.host), f.strs.str(hd.userAgent)
			basicAuth(hd.auth, l7)
		}
		h.Requests++
		// Skip the body to the next request.
		var n int
		var err error
		switch {
		case hd.chunked:
			n, err = chunkedLen(data[min(hd.end, len(data)):])
		case len(hd.contentLength) > 0:
			n, err = strconv.Atoi(string(hd.contentLength))
		}
		if !hd.complete || err != nil || hd.end+n > len(data) {
			break
		}
		data = data[hd.end+n:]
	}
	httpResponse(f.Resp.Data, h, f.strs)
	l7.HTTP = h
}

// httpResponse sets the status and Server of the first final response
// (a 1xx interim response has no body, so the next head follows it).
func httpResponse(data []byte, h *schema.HTTP, strs *strTable) {
	for range 4 {
		if !isHTTPResponse(data) {
			return
		}
		hd := parseHTTPHead(data)
		code, _ := strconv.Atoi(string(data[9:12]))
		h.Status, h.Server = code, strs.str(hd.server)
		if code >= 200 || !hd.complete {
			return
		}
		data = data[hd.end:]
	}
}

// httpHead is a message's start line and the header values kept.
type httpHead struct {
	line                          []byte
	host, userAgent, server, auth []byte
	contentLength                 []byte
	chunked, complete             bool
	end                           int // offset after the blank line
}

// parseHTTPHead reads a start line and the headers after it, as far as
// they were captured; a line cut short is dropped, not kept truncated.
func parseHTTPHead(data []byte) httpHead {
	var h httpHead
	for off, first := 0, true; off < len(data); first = false {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			if first {
				h.line = data // a start line cut in a long URI: keep its start
			}
			return h // cut: keep what arrived whole
		}
		line := bytes.TrimSuffix(data[off:off+nl], []byte("\r"))
		off += nl + 1
		if first {
			h.line = line
			continue
		}
		if len(line) == 0 {
			h.complete, h.end = true, off
			return h
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		// The lengths first: most headers are none of these, and
		// comparing lengths spares folding their names.
		switch n := len(name); {
		case n == len("Host") && bytes.EqualFold(name, []byte("Host")):
			h.host = bytes.TrimSpace(value)
		case n == len("User-Agent") && bytes.EqualFold(name, []byte("User-Agent")):
			h.userAgent = bytes.TrimSpace(value)
		case n == len("Server") && bytes.EqualFold(name, []byte("Server")):
			h.server = bytes.TrimSpace(value)
		case n == len("Authorization") && bytes.EqualFold(name, []byte("Authorization")):
			h.auth = bytes.TrimSpace(value)
		case n == len("Content-Length") && bytes.EqualFold(name, []byte("Content-Length")):
			h.contentLength = bytes.TrimSpace(value)
		case n == len("Transfer-Encoding") && bytes.EqualFold(name, []byte("Transfer-Encoding")):
			h.chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		}
	}
	return h
}

// basicAuth flags credentials sent with HTTP Basic authentication.
func basicAuth(auth []byte, l7 *schema.L7) {
	scheme, cred, ok := bytes.Cut(auth, []byte(" "))
	if !ok || !bytes.EqualFold(scheme, []byte("Basic")) {
		return
	}
	raw, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(cred)))
	if err != nil {
		return
	}
	user, _, ok := bytes.Cut(raw, []byte(":"))
	if ok {
		l7.Cleartext = &schema.Cleartext{Protocol: "http-basic", User: string(user), Password: true}
	}
}

// chunkedLen is the length of a chunked body at the start of b, through
// the last chunk and the trailer; an error when b ends before it does.
func chunkedLen(b []byte) (int, error) {
	off := 0
	for {
		nl := bytes.IndexByte(b[off:], '\n')
		if nl < 0 {
			return 0, errHTTPCut
		}
		sizeText, _, _ := bytes.Cut(bytes.TrimSpace(b[off:off+nl]), []byte(";"))
		size, err := strconv.ParseUint(string(sizeText), 16, 31)
		if err != nil {
			return 0, err
		}
		off += nl + 1
		if size == 0 { // trailer fields, then a blank line
			for {
				nl := bytes.IndexByte(b[off:], '\n')
				if nl < 0 {
					return 0, errHTTPCut
				}
				line := bytes.TrimSpace(b[off : off+nl])
				off += nl + 1
				if len(line) == 0 {
					return off, nil
				}
			}
		}
		off += int(size)
		if off > len(b) {
			return 0, errHTTPCut
		}
		if nl := bytes.IndexByte(b[off:], '\n'); nl >= 0 && nl <= 1 {
			off += nl + 1
		}
	}
}

var errHTTPCut = errors.New("http: body cut by the buffer")
