package scenario

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// certHash is a certificate's SHA-256 as the DPI writes it, drawn from
// what the certificate is, so each device's differs and runs agree.
func certHash(seed uint64, what string) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seed)
	h := sha256.Sum256(append(b[:], what...))
	return hex.EncodeToString(h[:])
}

// hashDays is a number of days in [lo, hi) drawn from a certificate's
// hash, for its issue date.
func hashDays(sum string, lo, hi int) time.Duration {
	b, _ := hex.DecodeString(sum[:8])
	return time.Duration(lo+int(binary.BigEndian.Uint32(b)%uint32(hi-lo))) * 24 * time.Hour
}

// awsIoTIssuer signs the certificates AWS IoT creates for things
// (CreateKeysAndCertificate, or from a CSR); they are all valid until
// the end of 2049 and all have the same subject, so the hash is what
// tells them apart.
const awsIoTIssuer = "OU=Amazon Web Services O=Amazon.com Inc. L=Seattle ST=Washington C=US"

var awsIoTExpiry = time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC)

// deviceCert is the client certificate an IoT device was provisioned
// with: sensors made a P-256 key on their microcontroller and sent a
// CSR, cameras took AWS's RSA 2048 key pair. Provisioned up to two years
// before the scenario starts.
func deviceCert(cfg Config, d *device) *schema.Cert {
	sum := certHash(cfg.Seed, "device/"+d.asset)
	c := &schema.Cert{Subject: "CN=AWS IoT Certificate", Issuer: awsIoTIssuer, SHA256: sum,
		NotBefore: cfg.Start.Add(-hashDays(sum, 30, 730)), NotAfter: awsIoTExpiry,
		KeyAlg: "RSA", KeyBits: 2048, SigAlg: "SHA256-RSA"}
	if d.role == sensor {
		c.KeyAlg, c.KeyBits = "ECDSA", 256
	}
	return c
}

// serverCert is a public server's certificate: issued by a public CA
// for about a year (Let's Encrypt: 90 days, renewed a month before the
// end), with at least 40 days left when the scenario starts. One
// certificate serves every address of a name, as a load balancer or a
// server farm presents it.
func serverCert(cfg Config, name, issuer string, days int, alg string, bits int) *schema.Cert {
	sum := certHash(cfg.Seed, "server/"+name)
	age := hashDays(sum, 1, days-40)
	nb := cfg.Start.Add(-age).Truncate(time.Hour)
	return &schema.Cert{Subject: "CN=" + name, Issuer: issuer, SHA256: sum, SANs: []string{name},
		NotBefore: nb, NotAfter: nb.Add(time.Duration(days) * 24 * time.Hour), KeyAlg: alg, KeyBits: bits, SigAlg: "SHA256-RSA"}
}

// certs are the fleet's certificates, built once per generation.
type certs struct {
	broker, web, payments, metrics *schema.Cert
	device                         map[*device]*schema.Cert
}

func newCerts(cfg Config, f *fleet) certs {
	c := certs{
		broker:   serverCert(cfg, "*.iot.eu-west-1.amazonaws.com", "CN=Amazon RSA 2048 M01 O=Amazon C=US", 395, "RSA", 2048),
		web:      serverCert(cfg, webName, "CN=R11 O=Let's Encrypt C=US", 90, "ECDSA", 256),
		payments: serverCert(cfg, paymentName, "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1 O=DigiCert Inc C=US", 395, "RSA", 2048),
		metrics:  serverCert(cfg, metricsName, "CN=Amazon RSA 2048 M02 O=Amazon C=US", 395, "RSA", 2048),
		device:   map[*device]*schema.Cert{},
	}
	for _, d := range f.devices {
		if d.role == sensor || d.role == camera {
			c.device[d] = deviceCert(cfg, d)
		}
	}
	return c
}

// tls12 is a TLS 1.2 handshake as the DPI decodes it: the server's
// certificate is in the clear, and the client's when the server asked
// for one (mutual TLS, as AWS IoT asks devices on 8883).
func tls12(name string, server, client *schema.Cert) *schema.L7 {
	cipher := "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
	if server != nil && server.KeyAlg == "ECDSA" {
		cipher = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
	}
	return &schema.L7{By: "content", Confidence: 1,
		TLS: &schema.TLS{Version: "TLSv12", SNI: name, Cipher: cipher, Cert: server, ClientCert: client}}
}
