// TLS handshakes (RFC 5246, RFC 8446) parsed with
// golang.org/x/crypto/cryptobyte: crypto/tls does not expose its message
// parsers, and a passive decoder must read both sides of someone else's
// handshake, cut short or not. Up to TLS 1.2 the certificates travel in
// the clear: the server's, and in mutual TLS the client's, which it sends
// first in its second flight after a CertificateRequest. TLS 1.3
// encrypts both.

package dpi

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/crypto/cryptobyte"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Handshake message types.
const (
	tlsClientHello        = 1
	tlsServerHello        = 2
	tlsCertificate        = 11
	tlsCertificateRequest = 13
	tlsServerHelloDone    = 14
)

var tlsAnalyzer = Analyzer{
	App: "tls", Proto: 6, Ports: []uint16{443, 465, 636, 853, 993, 995, 8443},
	Match: func(f *Flow) float64 {
		ch, sh := isTLSHello(f.Orig.Data, tlsClientHello), isTLSHello(f.Resp.Data, tlsServerHello)
		switch {
		case ch && sh:
			return 0.95
		case ch:
			return 0.9
		case sh:
			return 0.8
		}
		return 0
	},
	Decode: decodeTLS,
	Enough: tlsEnough,
	NewL7:  newTLSL7,
}

// tlsEnough waits for a whole ClientHello (JA4), the end of the server's
// cleartext flight — a TLS 1.3 ServerHello, a ServerHelloDone, a record
// of another type (an abbreviated handshake, an alert), or the leaf
// certificate when the rest was cut off — and, when that flight asked
// for a client certificate, for the client's answer. Waiting is bounded:
// the engine decides anyway when the buffers fill or the session is
// written, and a client that sends no certificate, an alert or a cut
// stream ends the wait at once.
func tlsEnough(f *Flow) bool {
	client, clientCert := false, false
	msgs := 0
	tlsMessages(f.Orig.Data, func(typ uint8, body []byte, whole bool) bool {
		msgs++
		if msgs == 1 {
			client = whole
			return whole
		}
		// The client's second flight starts with its Certificate when
		// asked for one; anything else means it sent none.
		clientCert = whole || typ == tlsCertificate && leafDER(body) != nil
		return false
	})
	server, leaf, requested := false, false, false
	tlsMessages(f.Resp.Data, func(typ uint8, body []byte, whole bool) bool {
		switch typ {
		case tlsServerHello:
			if v, _, ok := parseServerHello(body); ok && v >= tls.VersionTLS13 {
				server = true
			}
		case tlsCertificate:
			leaf = leafDER(body) != nil
		case tlsCertificateRequest:
			requested = true
		case tlsServerHelloDone:
			server = true
		}
		return whole && !server
	})
	server = server || tlsCleartextOver(f.Resp.Data) || leaf && !f.Resp.Complete
	if !client || !server {
		return false
	}
	return !requested || clientCert || tlsCleartextOver(f.Orig.Data) || !f.Orig.Complete
}

// tlsCleartextOver reports a record other than a handshake one, which
// ends the cleartext handshake.
func tlsCleartextOver(data []byte) bool {
	for len(data) >= 5 {
		if data[0] != 22 {
			return true
		}
		data = data[min(5+int(binary.BigEndian.Uint16(data[3:])), len(data)):]
	}
	return false
}

// isTLSHello reports whether b starts with a handshake record (TLS 1.0 to
// 1.3 record versions) whose first message is of type typ, as far as b
// goes.
func isTLSHello(b []byte, typ byte) bool {
	if len(b) < 6 || b[0] != 22 || b[1] != 3 || b[2] < 1 || b[2] > 4 || b[5] != typ {
		return false
	}
	if n := int(binary.BigEndian.Uint16(b[3:])); n < 4 || n > 1<<14+2048 {
		return false
	}
	if len(b) >= 11 { // the message length, and its legacy_version
		n := int(b[6])<<16 | int(b[7])<<8 | int(b[8])
		return n >= 38 && b[9] == 3
	}
	return true
}

// tlsMessages calls fn for each handshake message at the start of a
// stream, with whether all of it was captured, until fn returns false.
// Messages may span records; the first record of another type ends the
// cleartext (ChangeCipherSpec, or TLS 1.3's encrypted records).
func tlsMessages(data []byte, fn func(typ uint8, body []byte, whole bool) bool) {
	var hs []byte
	for first := true; len(data) >= 5 && data[0] == 22; first = false {
		n := int(binary.BigEndian.Uint16(data[3:]))
		end := min(5+n, len(data))
		if first {
			hs = data[5:end:end] // no copy while the messages fit one record
		} else {
			hs = append(hs, data[5:end]...) // a copy: hs's capacity ends with its record
		}
		data = data[end:]
	}
	for len(hs) >= 4 {
		typ, n := hs[0], int(hs[1])<<16|int(hs[2])<<8|int(hs[3])
		if n > len(hs)-4 {
			fn(typ, hs[4:], false)
			return
		}
		if !fn(typ, hs[4:4+n], true) {
			return
		}
		hs = hs[4+n:]
	}
}

func decodeTLS(f *Flow, l7 *schema.L7) {
	t := record(l7.TLS)
	alpn := t.ALPN[:0] // room NewL7 made, if any
	t.ALPN = nil
	first := true
	tlsMessages(f.Orig.Data, func(typ uint8, body []byte, whole bool) bool {
		if !first { // the second flight: the client's certificate, if asked for
			if typ == tlsCertificate {
				t.ClientCert = parseCertificateMsg(body)
			}
			return false
		}
		first = false
		if typ == tlsClientHello {
			ch := clientHello{strs: f.strs, alpn: alpn}
			ok := parseClientHello(body, &ch)
			t.SNI, t.ALPN = ch.sni, orNil(ch.alpn)
			if ok && whole {
				t.JA4 = ja4(&ch)
			}
			return whole
		}
		return false
	})
	tlsMessages(f.Resp.Data, func(typ uint8, body []byte, whole bool) bool {
		switch typ {
		case tlsServerHello:
			version, cipher, ok := parseServerHello(body)
			if !ok {
				return false
			}
			t.Version, t.Cipher = tlsVersionName(version), cipherName(cipher)
			return version < tls.VersionTLS13 // the rest is encrypted
		case tlsCertificate: // the leaf comes first: a chain cut short still has it
			t.Cert = parseCertificateMsg(body)
			return false
		case tlsServerHelloDone:
			return false
		}
		return true
	})
	l7.TLS = t
}

// parseClientHello reads what it can of a ClientHello into ch, which the
// caller owns so that it stays on the stack; ok is false when it was cut
// short or malformed, so its extensions may be missing.
func parseClientHello(body []byte, ch *clientHello) (ok bool) {
	s := cryptobyte.String(body)
	var sid, ciphers, comp cryptobyte.String
	if !s.ReadUint16(&ch.version) || !s.Skip(32) || !s.ReadUint8LengthPrefixed(&sid) {
		return false
	}
	if !s.ReadUint16LengthPrefixed(&ciphers) {
		return false
	}
	var c uint16
	for ciphers.ReadUint16(&c) {
		ch.ciphers.add(c)
	}
	if !s.ReadUint8LengthPrefixed(&comp) {
		return false
	}
	if s.Empty() {
		return true // no extensions (SSL 3.0 style)
	}
	var exts cryptobyte.String
	rest := s // a failed read consumes the length
	if ok = s.ReadUint16LengthPrefixed(&exts); !ok {
		if !rest.Skip(2) {
			return false
		}
		exts = rest // cut short: read the extensions that are there
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return false
		}
		ch.exts.add(typ)
		if !ch.readExtension(typ, data) {
			ok = false
		}
	}
	return ok
}

// readExtension decodes the extensions that schema.TLS and JA4 use.
func (ch *clientHello) readExtension(typ uint16, data cryptobyte.String) bool {
	switch typ {
	case 0x0000: // server_name
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) {
			return false
		}
		for !list.Empty() {
			var kind uint8
			var name cryptobyte.String
			if !list.ReadUint8(&kind) || !list.ReadUint16LengthPrefixed(&name) {
				return false
			}
			if kind == 0 && ch.sni == "" {
				ch.sni = ch.strs.str(name)
			}
		}
	case 0x0010: // application_layer_protocol_negotiation
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) {
			return false
		}
		// The protocols are substrings of one copy of the list, which a
		// first pass counts: two allocations for the list, not one per
		// protocol and more as it grows.
		n := 0
		for l := list; len(l) > 0 && 1+int(l[0]) <= len(l); l = l[1+int(l[0]):] {
			n++
		}
		ch.alpn = slices.Grow(ch.alpn, n)
		all, off := ch.strs.str(list), 0
		for !list.Empty() {
			var proto cryptobyte.String
			if !list.ReadUint8LengthPrefixed(&proto) {
				return false
			}
			ch.alpn = append(ch.alpn, all[off+1:off+1+len(proto)])
			off += 1 + len(proto)
		}
	case 0x002b: // supported_versions
		var list cryptobyte.String
		if !data.ReadUint8LengthPrefixed(&list) {
			return false
		}
		var v uint16
		for list.ReadUint16(&v) {
			ch.versions.add(v)
		}
	case 0x000d: // signature_algorithms
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) {
			return false
		}
		var v uint16
		for list.ReadUint16(&v) {
			ch.sigAlgs.add(v)
		}
	}
	return true
}

// parseServerHello returns the negotiated version (supported_versions
// when present, as TLS 1.3 requires) and cipher suite.
func parseServerHello(body []byte) (version, cipher uint16, ok bool) {
	s := cryptobyte.String(body)
	var sid cryptobyte.String
	var comp uint8
	if !s.ReadUint16(&version) || !s.Skip(32) || !s.ReadUint8LengthPrefixed(&sid) ||
		!s.ReadUint16(&cipher) || !s.ReadUint8(&comp) {
		return 0, 0, false
	}
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) {
		return version, cipher, true
	}
	for !exts.Empty() {
		var typ, v uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			break
		}
		if typ == 0x002b && data.ReadUint16(&v) {
			version = v
		}
	}
	return version, cipher, true
}

func tlsVersionName(v uint16) string {
	switch v {
	case 0x0300: // tls.VersionSSL30, deprecated
		return "SSLv3"
	case tls.VersionTLS10:
		return "TLSv10"
	case tls.VersionTLS11:
		return "TLSv11"
	case tls.VersionTLS12:
		return "TLSv12"
	case tls.VersionTLS13:
		return "TLSv13"
	}
	if v>>8 == 0x7f { // TLS 1.3 drafts, named as Zeek names them
		return fmt.Sprintf("TLSv13-draft%d", v&0xff)
	}
	return fmt.Sprintf("0x%04x", v)
}

// parseCertificateMsg describes the leaf of a (TLS 1.2 or older)
// Certificate message; a leaf crypto/x509 rejects still gets its hash.
func parseCertificateMsg(body []byte) *schema.Cert {
	der := leafDER(body)
	if der == nil {
		return nil
	}
	sum := sha256.Sum256(der)
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return &schema.Cert{SHA256: hex.EncodeToString(sum[:])}
	}
	out := &schema.Cert{
		Subject:   c.Subject.String(),
		Issuer:    c.Issuer.String(),
		NotBefore: c.NotBefore.UTC(),
		NotAfter:  c.NotAfter.UTC(),
		SHA256:    hex.EncodeToString(sum[:]),
		SANs:      c.DNSNames,
		KeyAlg:    c.PublicKeyAlgorithm.String(),
		SigAlg:    c.SignatureAlgorithm.String(),
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		out.KeyBits = k.N.BitLen()
	case *ecdsa.PublicKey:
		out.KeyBits = k.Params().BitSize
	case ed25519.PublicKey:
		out.KeyBits = 256
	}
	out.SelfSigned = selfSigned(c)
	return out
}

// leafDER returns the first certificate of a Certificate message when
// all of it is there.
func leafDER(body []byte) []byte {
	s := cryptobyte.String(body)
	var der cryptobyte.String
	if !s.Skip(3) || !s.ReadUint24LengthPrefixed(&der) || len(der) == 0 {
		return nil
	}
	return der
}

// selfSigned: the subject is the issuer, and either the certificate's own
// key verifies its signature or, when it cannot be checked (SHA-1, an
// unsupported algorithm), the key identifiers do not name another key.
func selfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawSubject, c.RawIssuer) {
		return false
	}
	if c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil {
		return true
	}
	return len(c.AuthorityKeyId) == 0 || bytes.Equal(c.AuthorityKeyId, c.SubjectKeyId)
}

// cipherNames caches crypto/tls's names: CipherSuiteName builds the
// whole list on every call.
var cipherNames = sync.OnceValue(func() map[uint16]string {
	m := map[uint16]string{}
	for _, c := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		m[c.ID] = c.Name
	}
	return m
})

func cipherName(id uint16) string {
	if n, ok := cipherNames()[id]; ok {
		return n
	}
	return tls.CipherSuiteName(id)
}
