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

		cases := map[string]struct {
			cert      *tls.Certificate
			sni       string
			alpn      []string
			max       uint16
			chainCopy int
		}{
			"tls12 self-signed ecdsa": {&self, "osprey.test", []string{"h2", "http/1.1"}, tls.VersionTLS12, 0},
			"tls12 rsa leaf of a CA":  {&leaf, "api.osprey.test", nil, tls.VersionTLS12, 0},
			"tls13":                   {&self, "osprey.test", []string{"http/1.1"}, tls.VersionTLS13, 0},
			"tls13 to an address":     {&self, "", nil, tls.VersionTLS13, 0},
		}
		tlsCasesMemo = map[string]tlsCase{}
		for name, c := range cases {
			client := &tls.Config{ServerName: c.sni, NextProtos: c.alpn, MaxVersion: c.max, InsecureSkipVerify: true}
			server := &tls.Config{Certificates: []tls.Certificate{*c.cert}, NextProtos: c.alpn}
			orig, resp, st := handshake(t, client, server)
			tlsCasesMemo[name] = tlsCase{orig, resp, st, c.cert}
		}
	})
	return tlsCasesMemo
}

func TestTLSDecode(t *testing.T) {
	cases := tlsCases(t)
	certOf := func(name string, selfSigned bool, keyAlg string, bits int, sigAlg string) *schema.Cert {
		leaf := cases[name].leaf.Leaf
		return &schema.Cert{Subject: leaf.Subject.String(), Issuer: leaf.Issuer.String(),
			NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter, SHA256: sha256Hex(leaf.Raw), SANs: leaf.DNSNames,
			KeyAlg: keyAlg, KeyBits: bits, SigAlg: sigAlg, SelfSigned: selfSigned}
	}
	tests := []struct {
		name      string
		version   string
		sni       string
		alpn      []string
		cert      *schema.Cert
		ja4Prefix string
	}{
		{"tls12 self-signed ecdsa", "TLSv12", "osprey.test", []string{"h2", "http/1.1"},
			certOf("tls12 self-signed ecdsa", true, "ECDSA", 256, "ECDSA-SHA256"), "t12d1011h2_"},
		{"tls12 rsa leaf of a CA", "TLSv12", "api.osprey.test", nil,
			certOf("tls12 rsa leaf of a CA", false, "RSA", 2048, "ECDSA-SHA384"), "t12d101000_"},
		{"tls13", "TLSv13", "osprey.test", []string{"http/1.1"}, nil, "t13d"},
		{"tls13 to an address", "TLSv13", "", nil, nil, "t13i"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cases[tc.name]
			l7 := decodeTLSFlow(t, tcpFlow(c.orig, c.resp))
			got := l7.TLS
			want := &schema.TLS{Version: tc.version, SNI: tc.sni, ALPN: tc.alpn, Cipher: tls.CipherSuiteName(c.state.CipherSuite), JA4: got.JA4, Cert: tc.cert}
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

// firstRecord returns the first TLS record of b.
func firstRecord(b []byte) []byte { return b[:5+int(b[3])<<8|int(b[4])] }

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
