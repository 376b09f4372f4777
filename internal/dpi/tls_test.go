package dpi

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// recorder keeps what one end wrote.
type recorder struct {
	net.Conn
	mu  sync.Mutex
	out bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	r.out.Write(b)
	r.mu.Unlock()
	return r.Conn.Write(b)
}

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.out.Bytes()...)
}

// handshake runs crypto/tls between a client and a server over net.Pipe
// and returns what each sent, the test's real handshake bytes.
func handshake(t testing.TB, client, server *tls.Config) (orig, resp []byte, st tls.ConnectionState) {
	t.Helper()
	c, s := net.Pipe()
	rc, rs := &recorder{Conn: c}, &recorder{Conn: s}
	deadline := time.Now().Add(10 * time.Second)
	c.SetDeadline(deadline)
	s.SetDeadline(deadline)
	srv := tls.Server(rs, server)
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake() }()
	cli := tls.Client(rc, client)
	if err := cli.Handshake(); err != nil {
		t.Fatal("client handshake:", err)
	}
	if err := <-errc; err != nil {
		t.Fatal("server handshake:", err)
	}
	st = cli.ConnectionState()
	c.Close()
	s.Close()
	return rc.bytes(), rs.bytes(), st
}

// certPair makes a certificate for the names, self-signed when parent is
// nil, with the given key.
func certPair(t testing.TB, key crypto.Signer, parent *tls.Certificate, cn string, names ...string) tls.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Osprey Test"}},
		NotBefore:             time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
		DNSNames:              names,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  parent == nil,
	}
	signer, issuer := key, tmpl
	if parent != nil {
		signer, issuer = parent.PrivateKey.(crypto.Signer), parent.Leaf
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func decodeTLSFlow(t testing.TB, f *Flow) *schema.L7 {
	t.Helper()
	score, l7 := run(tlsAnalyzer, f)
	if score == 0 {
		t.Fatal("not matched as TLS")
	}
	return l7
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tlsFlows are the TLS test flows, also the fuzz seeds.
func tlsFlows(t testing.TB) map[string]*Flow {
	out := map[string]*Flow{}
	for name, tc := range tlsCases(t) {
		out[name] = tcpFlow(tc.orig, tc.resp)
	}
	return out
}

type tlsCase struct {
	orig, resp []byte
	state      tls.ConnectionState
	leaf       *tls.Certificate
	client     *tls.Certificate // the client's certificate in mutual TLS
}

var (
	tlsCasesOnce sync.Once
	tlsCasesMemo map[string]tlsCase
)

// tlsCases runs the handshakes once per test binary: RSA keys are slow.
func tlsCases(t testing.TB) map[string]tlsCase {
	tlsCasesOnce.Do(func() {
		ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		self := certPair(t, ec, nil, "osprey.test", "osprey.test", "www.osprey.test")
		caKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		ca := certPair(t, caKey, nil, "Osprey Test CA")
		rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		leaf := certPair(t, rsaKey, &ca, "api.osprey.test", "api.osprey.test")
		leaf.Certificate = append(leaf.Certificate, ca.Certificate[0])
		devKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		device := certPair(t, devKey, &ca, "thermostat-0042")
		device.Certificate = append(device.Certificate, ca.Certificate[0])

		cases := map[string]struct {
			cert       *tls.Certificate
			sni        string
			alpn       []string
			max        uint16
			clientAuth tls.ClientAuthType
			clientCert *tls.Certificate
		}{
			"tls12 self-signed ecdsa": {&self, "osprey.test", []string{"h2", "http/1.1"}, tls.VersionTLS12, tls.NoClientCert, nil},
			"tls12 rsa leaf of a CA":  {&leaf, "api.osprey.test", nil, tls.VersionTLS12, tls.NoClientCert, nil},
			"tls13":                   {&self, "osprey.test", []string{"http/1.1"}, tls.VersionTLS13, tls.NoClientCert, nil},
			"tls13 to an address":     {&self, "", nil, tls.VersionTLS13, tls.NoClientCert, nil},
			// An IoT device authenticating to an MQTT broker on 8883.
			"tls12 mutual":                     {&leaf, "broker.osprey.test", []string{"mqtt"}, tls.VersionTLS12, tls.RequireAnyClientCert, &device},
			"tls12 client sent no certificate": {&leaf, "broker.osprey.test", nil, tls.VersionTLS12, tls.RequestClientCert, nil},
			"tls13 mutual":                     {&leaf, "broker.osprey.test", nil, tls.VersionTLS13, tls.RequireAnyClientCert, &device},
		}
		tlsCasesMemo = map[string]tlsCase{}
		for name, c := range cases {
			client := &tls.Config{ServerName: c.sni, NextProtos: c.alpn, MaxVersion: c.max, InsecureSkipVerify: true}
			if c.clientCert != nil {
				client.Certificates = []tls.Certificate{*c.clientCert}
			}
			server := &tls.Config{Certificates: []tls.Certificate{*c.cert}, NextProtos: c.alpn, ClientAuth: c.clientAuth}
			orig, resp, st := handshake(t, client, server)
			tlsCasesMemo[name] = tlsCase{orig, resp, st, c.cert, c.clientCert}
		}
	})
	return tlsCasesMemo
}

func TestTLSDecode(t *testing.T) {
	cases := tlsCases(t)
	describe := func(c *x509.Certificate, selfSigned bool, keyAlg string, bits int, sigAlg string) *schema.Cert {
		return &schema.Cert{Subject: c.Subject.String(), Issuer: c.Issuer.String(),
			NotBefore: c.NotBefore, NotAfter: c.NotAfter, SHA256: sha256Hex(c.Raw), SANs: c.DNSNames,
			KeyAlg: keyAlg, KeyBits: bits, SigAlg: sigAlg, SelfSigned: selfSigned}
	}
	certOf := func(name string, selfSigned bool, keyAlg string, bits int, sigAlg string) *schema.Cert {
		return describe(cases[name].leaf.Leaf, selfSigned, keyAlg, bits, sigAlg)
	}
	device := describe(cases["tls12 mutual"].client.Leaf, false, "ECDSA", 256, "ECDSA-SHA384")
	tests := []struct {
		name       string
		version    string
		sni        string
		alpn       []string
		cert       *schema.Cert
		clientCert *schema.Cert
		ja4Prefix  string
	}{
		{"tls12 self-signed ecdsa", "TLSv12", "osprey.test", []string{"h2", "http/1.1"},
			certOf("tls12 self-signed ecdsa", true, "ECDSA", 256, "ECDSA-SHA256"), nil, "t12d1011h2_"},
		{"tls12 rsa leaf of a CA", "TLSv12", "api.osprey.test", nil,
			certOf("tls12 rsa leaf of a CA", false, "RSA", 2048, "ECDSA-SHA384"), nil, "t12d101000_"},
		{"tls13", "TLSv13", "osprey.test", []string{"http/1.1"}, nil, nil, "t13d"},
		{"tls13 to an address", "TLSv13", "", nil, nil, nil, "t13i"},
		{"tls12 mutual", "TLSv12", "broker.osprey.test", []string{"mqtt"},
			certOf("tls12 mutual", false, "RSA", 2048, "ECDSA-SHA384"), device, "t12d1011"},
		{"tls12 client sent no certificate", "TLSv12", "broker.osprey.test", nil,
			certOf("tls12 mutual", false, "RSA", 2048, "ECDSA-SHA384"), nil, "t12d101000_"},
		// TLS 1.3 encrypts both certificates.
		{"tls13 mutual", "TLSv13", "broker.osprey.test", nil, nil, nil, "t13d"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cases[tc.name]
			l7 := decodeTLSFlow(t, tcpFlow(c.orig, c.resp))
			got := l7.TLS
			want := &schema.TLS{Version: tc.version, SNI: tc.sni, ALPN: tc.alpn, Cipher: tls.CipherSuiteName(c.state.CipherSuite),
				JA4: got.JA4, Cert: tc.cert, ClientCert: tc.clientCert}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("TLS (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(got.JA4, tc.ja4Prefix) || len(got.JA4) != 36 {
				t.Errorf("JA4 %q, want %s… of 36 characters", got.JA4, tc.ja4Prefix)
			}
		})
	}
}

func TestTLSTruncated(t *testing.T) {
	c := tlsCases(t)["tls12 self-signed ecdsa"]
	full := decodeTLSFlow(t, tcpFlow(c.orig, c.resp)).TLS
	// Go sends the server_name extension first; cut the ClientHello after it.
	sni := bytes.Index(c.orig, []byte("osprey.test"))
	tests := []struct {
		name string
		f    *Flow
		want *schema.TLS
	}{
		{"ClientHello cut after the SNI", &Flow{Proto: 6, Orig: Side{Data: c.orig[:sni+20]}},
			&schema.TLS{SNI: "osprey.test"}},
		{"ClientHello in 50-byte records", tcpFlow(tlsRecords(firstRecord(c.orig)[5:], 50), nil),
			&schema.TLS{SNI: full.SNI, ALPN: full.ALPN, JA4: full.JA4}},
		{"server cut inside the leaf", &Flow{Proto: 6, Orig: Side{Data: c.orig, Complete: true}, Resp: Side{Data: c.resp[:150]}},
			&schema.TLS{SNI: full.SNI, ALPN: full.ALPN, JA4: full.JA4, Version: full.Version, Cipher: full.Cipher}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, decodeTLSFlow(t, tc.f).TLS); diff != "" {
				t.Errorf("TLS (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTLSEnough checks when the analyzer stops buffering: after the
// server's cleartext flight and, when that flight asked for a client
// certificate, after the client's answer or a sign it will not come.
func TestTLSEnough(t *testing.T) {
	cases := tlsCases(t)
	mutual, none, plain := cases["tls12 mutual"], cases["tls12 client sent no certificate"], cases["tls12 rsa leaf of a CA"]
	leafEnd := func(c tlsCase) int { // the server's flight cut just after its leaf
		der := c.leaf.Certificate[0]
		return bytes.Index(c.resp, der) + len(der)
	}
	alert := []byte{21, 3, 3, 0, 2, 2, 40} // handshake_failure
	tests := []struct {
		name string
		f    *Flow
		want bool
	}{
		{"server asked, client not answered yet", tcpFlow(firstRecord(mutual.orig), cleartext(mutual.resp)), false},
		{"server asked, client sent its certificate", tcpFlow(cleartext(mutual.orig), cleartext(mutual.resp)), true},
		{"server asked, client certificate cut after its leaf",
			tcpFlow(mutual.orig[:bytes.Index(mutual.orig, mutual.client.Certificate[0])+len(mutual.client.Certificate[0])], cleartext(mutual.resp)), true},
		{"server asked, client sent an empty certificate", tcpFlow(cleartext(none.orig), cleartext(none.resp)), true},
		{"server asked, client stream cut", &Flow{Proto: 6, Orig: Side{Data: firstRecord(mutual.orig)}, Resp: Side{Data: cleartext(mutual.resp), Complete: true}}, true},
		{"server asked, client alert", tcpFlow(append(firstRecord(mutual.orig), alert...), cleartext(mutual.resp)), true},
		{"server did not ask", tcpFlow(firstRecord(plain.orig), cleartext(plain.resp)), true},
		{"server flight up to its leaf", tcpFlow(firstRecord(plain.orig), plain.resp[:leafEnd(plain)]), false},
		{"server flight cut after its leaf", &Flow{Proto: 6, Orig: Side{Data: firstRecord(plain.orig), Complete: true}, Resp: Side{Data: plain.resp[:leafEnd(plain)]}}, true},
		{"server flight cut inside its leaf", &Flow{Proto: 6, Orig: Side{Data: firstRecord(plain.orig), Complete: true}, Resp: Side{Data: plain.resp[:150]}}, false},
		{"no server yet", tcpFlow(firstRecord(plain.orig), nil), false},
		{"tls13", tcpFlow(cases["tls13 mutual"].orig, cases["tls13 mutual"].resp), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tlsEnough(tc.f); got != tc.want {
				t.Errorf("tlsEnough %v, want %v", got, tc.want)
			}
		})
	}
}

// cleartext returns the handshake records at the start of b, up to the
// first record of another type (ChangeCipherSpec).
func cleartext(b []byte) []byte {
	n := 0
	for n+5 <= len(b) && b[n] == 22 {
		n += 5 + int(binary.BigEndian.Uint16(b[n+3:]))
	}
	n = min(n, len(b))
	return b[:n:n]
}

// firstRecord returns the first TLS record of b, without room to append
// into the rest of b (the test cases are shared).
func firstRecord(b []byte) []byte {
	n := 5 + int(binary.BigEndian.Uint16(b[3:]))
	return b[:n:n]
}

func TestTLSMatch(t *testing.T) {
	c := tlsCases(t)["tls13"]
	tests := []struct {
		name string
		f    *Flow
		want float64
	}{
		{"both hellos", tcpFlow(c.orig, c.resp), 0.95},
		{"ClientHello only", tcpFlow(c.orig, nil), 0.9},
		{"ServerHello only", tcpFlow(nil, c.resp), 0.8},
		{"ClientHello first bytes", tcpFlow(c.orig[:6], nil), 0.9},
		{"application data", tcpFlow([]byte{23, 3, 3, 0, 40, 1, 2, 3}, nil), 0},
		{"SSL 2 record version", tcpFlow(append([]byte{22, 2, 0}, c.orig[3:]...), nil), 0},
		{"hello type swapped", tcpFlow(c.resp, c.orig), 0},
		{"HTTP", tcpFlow([]byte("GET / HTTP/1.1\r\n"), nil), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tlsAnalyzer.Match(tc.f); got != tc.want {
				t.Errorf("Match %v, want %v", got, tc.want)
			}
		})
	}
}

// BenchmarkTLS runs what the engine does with a TLS flow, Match, Enough
// and Decode, on each test handshake.
func BenchmarkTLS(b *testing.B) {
	for name, f := range tlsFlows(b) {
		b.Run(strings.ReplaceAll(name, " ", "-"), func(b *testing.B) {
			f := *f
			f.strs = &strTable{}
			b.ReportAllocs()
			for b.Loop() {
				tlsAnalyzer.Match(&f)
				tlsAnalyzer.Enough(&f)
				tlsAnalyzer.Decode(&f, tlsAnalyzer.NewL7())
			}
		})
	}
}

// TestTLSMutualEngine feeds a mutual-TLS handshake to the engine in
// MSS-sized segments, as the meter does: the flow stays open after the
// server's flight and is decided, with both certificates, by the
// client's.
func TestTLSMutualEngine(t *testing.T) {
	c := tlsCases(t)["tls12 mutual"]
	e := NewEngine(DefaultLimits())
	h := e.Start(6)
	m := Meta{OrigSide: 0, OrigPort: 50123, RespPort: 8883}
	seq := [2]uint32{1000, 5000}
	e.Feed(h, m, 0, seq[0], true, nil)
	e.Feed(h, m, 1, seq[1], true, nil)
	seq[0]++
	seq[1]++
	send := func(side int, b []byte) (decided bool) {
		for len(b) > 0 {
			n := min(len(b), 1448)
			decided = e.Feed(h, m, side, seq[side], false, b[:n])
			seq[side] += uint32(n)
			b = b[n:]
		}
		return decided
	}
	hello := firstRecord(c.orig)
	if send(0, hello) || send(1, cleartext(c.resp)) {
		t.Fatal("decided before the client's certificate")
	}
	if !send(0, c.orig[len(hello):]) {
		t.Fatal("not decided after the client's certificate")
	}
	app, l7 := e.Decide(h, m)
	if app != "tls" || l7.TLS.Cert == nil || l7.TLS.ClientCert == nil {
		t.Fatalf("app %q, TLS %+v", app, l7.TLS)
	}
	if got, want := l7.TLS.ClientCert.SHA256, sha256Hex(c.client.Certificate[0]); got != want {
		t.Errorf("client certificate %s, want %s", got, want)
	}
}
