package dpi

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

const (
	httpGet = "GET /index.html?q=1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"
	httpOK  = "HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nContent-Length: 5\r\n\r\nhello"
	// Basic dXNlcjpzM2NyZXQ= is user:s3cret.
	httpAuth    = "GET /admin HTTP/1.1\r\nHost: 10.0.0.1\r\nAuthorization: Basic YWRtaW46czNjcmV0\r\n\r\n"
	httpPost    = "POST /upload HTTP/1.1\r\nHost: api.example\r\nContent-Length: 11\r\n\r\nhello world"
	httpChunked = "POST /stream HTTP/1.1\r\nHost: api.example\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
)

func httpFlows() map[string]*Flow {
	return map[string]*Flow{
		"get and response": tcpFlow([]byte(httpGet), []byte(httpOK)),
		"basic auth":       tcpFlow([]byte(httpAuth), []byte("HTTP/1.1 401 Unauthorized\r\nServer: lighttpd\r\n\r\n")),
		"keep-alive":       tcpFlow([]byte(httpPost+httpChunked+httpGet), []byte(httpOK)),
	}
}

func TestHTTPDecode(t *testing.T) {
	flows := httpFlows()
	long := "GET /" + strings.Repeat("a", 3000)
	tests := []struct {
		name      string
		f         *Flow
		want      *schema.HTTP
		cleartext *schema.Cleartext
	}{
		{"get and response", flows["get and response"], &schema.HTTP{Method: "GET", Host: "www.example.com", URI: "/index.html?q=1",
			UserAgent: "curl/8.5.0", Status: 200, Server: "nginx/1.24.0", Requests: 1}, nil},
		{"basic auth", flows["basic auth"], &schema.HTTP{Method: "GET", Host: "10.0.0.1", URI: "/admin", Status: 401, Server: "lighttpd", Requests: 1},
			&schema.Cleartext{Protocol: "http-basic", User: "admin", Password: true}},
		{"keep-alive with bodies, one chunked", flows["keep-alive"], &schema.HTTP{Method: "POST", Host: "api.example", URI: "/upload",
			Status: 200, Server: "nginx/1.24.0", Requests: 3}, nil},
		{"headers cut at the buffer limit", tcpFlow([]byte(httpGet[:70]), nil), &schema.HTTP{Method: "GET", Host: "www.example.com",
			URI: "/index.html?q=1", Requests: 1}, nil},
		{"URI net/http rejects", tcpFlow([]byte("GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n"), nil), &schema.HTTP{Method: "GET", Host: "h", URI: "/%zz", Requests: 1}, nil},
		{"100 Continue then the final status", tcpFlow([]byte(httpPost), []byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nServer: api\r\n\r\n")),
			&schema.HTTP{Method: "POST", Host: "api.example", URI: "/upload", Status: 201, Server: "api", Requests: 1}, nil},
		{"request line cut in a long URI", tcpFlow([]byte(long), nil), &schema.HTTP{Method: "GET", URI: long[4:], Requests: 1}, nil},
		{"response only", tcpFlow(nil, []byte(httpOK)), &schema.HTTP{Status: 200, Server: "nginx/1.24.0"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			score, l7 := run(httpAnalyzer, tc.f)
			if score == 0 {
				t.Fatal("not matched")
			}
			if diff := cmp.Diff(tc.want, l7.HTTP); diff != "" {
				t.Errorf("HTTP (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.cleartext, l7.Cleartext); diff != "" {
				t.Errorf("Cleartext (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHTTPMatch(t *testing.T) {
	tests := []struct {
		name       string
		orig, resp string
		want       float64
	}{
		{"request and response", httpGet, httpOK, 0.95},
		{"request", httpGet, "", 0.9},
		{"HTTP/1.0 request", "HEAD / HTTP/1.0\r\n\r\n", "", 0.9},
		{"response", "", httpOK, 0.7},
		{"memcached get", "get key\r\n", "", 0},
		{"method without HTTP version", "GET /\r\n", "", 0},
		{"short line without its end", "GET /abc", "", 0},
		{"lower-case method", "get / HTTP/1.1\r\n", "", 0},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "", 0},
		{"SSDP is not HTTP", "NOTIFY * HTTP/1.1\r\n", "", 0},
		{"status without digits", "", "HTTP/1.1 OK\r\n", 0},
		{"RTSP", "OPTIONS rtsp://cam/ RTSP/1.0\r\n", "RTSP/1.0 200 OK\r\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := httpAnalyzer.Match(tcpFlow([]byte(tc.orig), []byte(tc.resp))); got != tc.want {
				t.Errorf("Match %v, want %v", got, tc.want)
			}
		})
	}
}
