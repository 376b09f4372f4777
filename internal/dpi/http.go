// HTTP/1.x. Whole requests are read with net/http (which also skips
// bodies, chunked or not, to count the requests of a keep-alive stream);
// a first request or response cut at the buffer limit, or one net/http
// rejects, is read leniently line by line with net/textproto, which
// returns the headers it got before the cut.

package dpi

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// httpMethods are the request methods Match accepts (RFC 9110 and
// WebDAV). NOTIFY and M-SEARCH are left to SSDP.
var httpMethods = [][]byte{
	[]byte("GET "), []byte("POST "), []byte("HEAD "), []byte("PUT "), []byte("DELETE "),
	[]byte("OPTIONS "), []byte("PATCH "), []byte("CONNECT "), []byte("TRACE "),
	[]byte("PROPFIND "), []byte("PROPPATCH "), []byte("MKCOL "), []byte("COPY "),
	[]byte("MOVE "), []byte("LOCK "), []byte("UNLOCK "), []byte("REPORT "),
}

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
	// Enough: the first request's and response's heads are whole.
	Enough: func(f *Flow) bool {
		return bytes.Contains(f.Orig.Data, crlf2) && bytes.Contains(f.Resp.Data, crlf2)
	},
}

var crlf2 = []byte("\r\n\r\n")

// isHTTPRequest looks for "METHOD URI HTTP/1." on the first line, or a
// long URI that the buffer limit cut.
func isHTTPRequest(b []byte) bool {
	var rest []byte
	for _, m := range httpMethods {
		if bytes.HasPrefix(b, m) {
			rest = b[len(m):]
			break
		}
	}
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
	h := &schema.HTTP{}
	br := bufio.NewReader(bytes.NewReader(f.Orig.Data))
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			break
		}
		if h.Requests == 0 {
			h.Method, h.Host, h.URI, h.UserAgent = req.Method, req.Host, req.RequestURI, req.UserAgent()
			basicAuth(req.Header, l7)
		}
		h.Requests++
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			break
		}
	}
	if h.Requests == 0 && isHTTPRequest(f.Orig.Data) {
		if line, hdr, ok := readHead(f.Orig.Data); ok {
			parts := strings.SplitN(line, " ", 3)
			if len(parts) >= 2 {
				h.Method, h.URI, h.Requests = parts[0], parts[1], 1
				h.Host, h.UserAgent = hdr.Get("Host"), hdr.Get("User-Agent")
				basicAuth(http.Header(hdr), l7)
			}
		}
	}
	httpResponse(f.Resp.Data, h)
	l7.HTTP = h
}

// httpResponse sets the status and Server of the first final response
// (a 1xx interim response has no body, so the next head follows it).
func httpResponse(data []byte, h *schema.HTTP) {
	for range 4 {
		line, hdr, ok := readHead(data)
		if !ok || !isHTTPResponse([]byte(line)) {
			return
		}
		code, _ := strconv.Atoi(line[9:12])
		h.Status, h.Server = code, hdr.Get("Server")
		if code >= 200 {
			return
		}
		i := bytes.Index(data, []byte("\r\n\r\n"))
		if i < 0 {
			return
		}
		data = data[i+4:]
	}
}

// readHead reads a start line and the headers that follow it, as many as
// were captured; a header line cut short is dropped, not kept truncated.
func readHead(data []byte) (string, textproto.MIMEHeader, bool) {
	if !bytes.Contains(data, []byte("\n\r\n")) && !bytes.Contains(data, []byte("\n\n")) {
		if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
			data = data[:i+1]
		}
	}
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(data)))
	line, err := tp.ReadLine()
	if err != nil {
		return "", nil, false
	}
	hdr, _ := tp.ReadMIMEHeader()
	if hdr == nil {
		hdr = textproto.MIMEHeader{}
	}
	return line, hdr, true
}

// basicAuth flags credentials sent with HTTP Basic authentication.
func basicAuth(hdr http.Header, l7 *schema.L7) {
	r := http.Request{Header: hdr}
	if user, _, ok := r.BasicAuth(); ok {
		l7.Cleartext = &schema.Cleartext{Protocol: "http-basic", User: user, Password: true}
	}
}
