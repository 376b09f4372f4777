package dpi

import "github.com/osprey-ndr/osprey/internal/schema"

// Blocks that Analyzer.NewL7 allocates: the L7, the protocol's record
// and room for the short list the record points at, in one object.

type dnsL7 struct {
	l7      schema.L7
	dns     schema.DNS
	answers [2]string // most responses carry one or two
}

func newDNSL7() *schema.L7 {
	b := new(dnsL7)
	b.l7.DNS = &b.dns
	b.dns.Answers = b.answers[:0]
	return &b.l7
}

type tlsL7 struct {
	l7   schema.L7
	tls  schema.TLS
	alpn [2]string // browsers offer "h2" and "http/1.1"
}

func newTLSL7() *schema.L7 {
	b := new(tlsL7)
	b.l7.TLS = &b.tls
	b.tls.ALPN = b.alpn[:0]
	return &b.l7
}

type httpL7 struct {
	l7   schema.L7
	http schema.HTTP
}

func newHTTPL7() *schema.L7 {
	b := new(httpL7)
	b.l7.HTTP = &b.http
	return &b.l7
}

// record returns the record an Analyzer.NewL7 put in an L7, or a new one.
func record[T any](have *T) *T {
	if have != nil {
		return have
	}
	return new(T)
}

// orNil is s, or nil when it is empty: a list that NewL7 gave room for
// and Decode did not fill reads as absent, as without NewL7.
func orNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
