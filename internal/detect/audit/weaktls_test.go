package audit

import (
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestWeakTLS(t *testing.T) {
	cert := func(change func(*schema.Cert)) *schema.Cert {
		c := goodCert("cc")
		change(c)
		return c
	}
	expired := cert(func(c *schema.Cert) { c.NotAfter = t0.AddDate(0, 0, -12) })
	tests := []struct {
		name      string
		tls       *schema.TLS
		cfg       func(*TLSConfig)
		rule, key string
		severity  detect.Severity
		entities  []string
		values    map[string]float64
	}{
		{name: "expired server certificate", tls: &schema.TLS{Version: "TLSv12", Cert: expired},
			rule: "server-certificate-expiring", key: "server-certificate-expiring|expired|cc", severity: detect.High,
			entities: []string{"cert:cc", "ip:10.9.0.1", "ip:10.0.0.5"}, values: map[string]float64{"days_to_expiry": -12}},
		{name: "server certificate not yet valid", tls: &schema.TLS{Version: "TLSv12", Cert: cert(func(c *schema.Cert) { c.NotBefore = t0.AddDate(0, 0, 3) })},
			rule: "server-certificate-expiring", key: "server-certificate-expiring|not-yet-valid|cc", severity: detect.Medium},
		{name: "device certificate expiring", tls: &schema.TLS{Version: "TLSv12", Cert: goodCert("srv"), ClientCert: cert(func(c *schema.Cert) { c.NotAfter = t0.Add(20*24*time.Hour + time.Hour) })},
			rule: "DEVICE_CERTIFICATE_EXPIRING_CHECK", key: "DEVICE_CERTIFICATE_EXPIRING_CHECK|expiring|cc", severity: detect.Medium,
			entities: []string{"cert:cc", "ip:10.0.0.5"}, values: map[string]float64{"days_to_expiry": 20, "expiring_days": 30}},
		{name: "expiring threshold", tls: &schema.TLS{Version: "TLSv12", Cert: cert(func(c *schema.Cert) { c.NotAfter = t0.AddDate(0, 0, 20) })},
			cfg: func(c *TLSConfig) { c.ExpiringDays = 10 }},
		{name: "device certificate with a 1024-bit RSA key", tls: &schema.TLS{Version: "TLSv12", Cert: goodCert("srv"), ClientCert: cert(func(c *schema.Cert) { c.KeyAlg, c.KeyBits = "RSA", 1024 })},
			rule: "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK", key: "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK|weak-key|cc", severity: detect.Critical,
			values: map[string]float64{"key_bits": 1024, "min_bits": 2048}},
		{name: "server certificate with a P-224 key", tls: &schema.TLS{Version: "TLSv12", Cert: cert(func(c *schema.Cert) { c.KeyBits = 224 })},
			rule: "server-certificate-key-quality", key: "server-certificate-key-quality|weak-key|cc", severity: detect.High},
		{name: "Ed25519 has no size rule", tls: &schema.TLS{Version: "TLSv12", Cert: cert(func(c *schema.Cert) { c.KeyAlg, c.KeyBits = "Ed25519", 256 })}},
		{name: "SHA-1 signature", tls: &schema.TLS{Version: "TLSv12", Cert: cert(func(c *schema.Cert) { c.SigAlg = "SHA1-RSA" })},
			rule: "server-certificate-weak-signature", key: "server-certificate-weak-signature|weak-signature|cc", severity: detect.Medium},
		{name: "SHA-1 self-signature is not checked", tls: &schema.TLS{Version: "TLSv12", Cert: cert(func(c *schema.Cert) { c.SigAlg, c.SelfSigned = "SHA1-RSA", true })}},
		{name: "self-signed server, off by default", tls: &schema.TLS{Version: "TLSv12", Cert: cert(func(c *schema.Cert) { c.SelfSigned = true })}},
		{name: "self-signed server, turned on", tls: &schema.TLS{Version: "TLSv12", Cert: cert(func(c *schema.Cert) { c.SelfSigned = true })},
			cfg:  func(c *TLSConfig) { c.SelfSigned = true },
			rule: "server-certificate-self-signed", key: "server-certificate-self-signed|self-signed|cc", severity: detect.Low},
		{name: "self-signed device certificate, turned on", tls: &schema.TLS{Version: "TLSv12", Cert: goodCert("srv"), ClientCert: cert(func(c *schema.Cert) { c.SelfSigned = true })},
			cfg:  func(c *TLSConfig) { c.SelfSigned = true },
			rule: "device-certificate-self-signed", key: "device-certificate-self-signed|self-signed|cc", severity: detect.Low},
		{name: "TLS 1.0", tls: &schema.TLS{Version: "TLSv10", Cipher: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
			rule: "tls-weak-version", key: "tls-weak-version|ip:10.9.0.1|TLSv10", severity: detect.Medium,
			entities: []string{"ip:10.9.0.1", "ip:10.0.0.5", "port:443"}},
		{name: "SSL 3", tls: &schema.TLS{Version: "SSLv3"}, rule: "tls-weak-version", key: "tls-weak-version|ip:10.9.0.1|SSLv3", severity: detect.High},
		{name: "TLS 1.1 allowed", tls: &schema.TLS{Version: "TLSv11"}, cfg: func(c *TLSConfig) { c.MinVersion = "TLSv11" }},
		{name: "RC4 by name", tls: &schema.TLS{Version: "TLSv12", Cipher: "TLS_RSA_WITH_RC4_128_SHA"},
			rule: "tls-weak-cipher", key: "tls-weak-cipher|ip:10.9.0.1|TLS_RSA_WITH_RC4_128_SHA", severity: detect.High},
		{name: "3DES by name", tls: &schema.TLS{Version: "TLSv12", Cipher: "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"},
			rule: "tls-weak-cipher", key: "tls-weak-cipher|ip:10.9.0.1|TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", severity: detect.Medium},
		{name: "NULL suite by id", tls: &schema.TLS{Version: "TLSv12", Cipher: "0x003B"},
			rule: "tls-weak-cipher", key: "tls-weak-cipher|ip:10.9.0.1|0x003B", severity: detect.High},
		{name: "anonymous suite by id", tls: &schema.TLS{Version: "TLSv12", Cipher: "0x0034"}, rule: "tls-weak-cipher", key: "tls-weak-cipher|ip:10.9.0.1|0x0034", severity: detect.High},
		{name: "unknown id", tls: &schema.TLS{Version: "TLSv12", Cipher: "0xCAFE"}},
		{name: "strong TLS 1.3", tls: &schema.TLS{Version: "TLSv13", Cipher: "TLS_AES_128_GCM_SHA256"}},
		{name: "unparsed certificate", tls: &schema.TLS{Version: "TLSv12", Cert: &schema.Cert{SHA256: "dd"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig().TLS
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			rs := run(newWeakTLS(cfg, 10*time.Minute), sess("10.0.0.5", "10.9.0.1", 443, 0, time.Second, withTLS(tc.tls)))
			if tc.rule == "" {
				none(t, rs)
				return
			}
			r := one(t, rs, tc.rule, tc.key, tc.entities...)
			if r.Severity != tc.severity {
				t.Errorf("severity %s, want %s", r.Severity, tc.severity)
			}
			for k, v := range tc.values {
				if r.Values[k] != v {
					t.Errorf("values %v, want %s = %v", r.Values, k, v)
				}
			}
		})
	}
}

// TestWeakTLSOncePerFinding: many sessions to servers sharing an expired
// certificate make one report per repeat_every; a second problem of the
// same certificate is a finding of its own.
func TestWeakTLSOncePerFinding(t *testing.T) {
	c := goodCert("lb")
	c.NotAfter, c.KeyAlg, c.KeyBits = t0.AddDate(0, 0, -1), "RSA", 1024
	var ss []*schema.Session
	for i := range 300 { // 300 sessions over 25 minutes to 10 servers behind one name
		ss = append(ss, sess("10.0.0."+itoa(i%50), "10.9.0."+itoa(i%10), 443, time.Duration(i)*5*time.Second, time.Second,
			withTLS(&schema.TLS{Version: "TLSv12", Cert: c})))
	}
	byKey := map[string]int{}
	for _, r := range run(newWeakTLS(DefaultConfig().TLS, 10*time.Minute), ss...) {
		byKey[r.DedupeKey]++
	}
	want := map[string]int{"server-certificate-expiring|expired|lb": 3, "server-certificate-key-quality|weak-key|lb": 3}
	if len(byKey) != len(want) || byKey["server-certificate-expiring|expired|lb"] != 3 || byKey["server-certificate-key-quality|weak-key|lb"] != 3 {
		t.Errorf("reports by key %v, want %v", byKey, want)
	}
}

func TestWeakCipher(t *testing.T) {
	for name, want := range map[string]string{
		"TLS_RSA_WITH_RC4_128_SHA": cipherRC4, "TLS_RSA_WITH_3DES_EDE_CBC_SHA": cipher3DES,
		"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "", "TLS_CHACHA20_POLY1305_SHA256": "",
		"0x0001": cipherNull, "0x0003": cipherExport, "0x0009": cipherDES, "0x0018": cipherAnon,
		"0xC017": cipherAnon, "0x009C": "", "0xZZ": "", "0x": "",
	} {
		if got := weakCipher(name); got != want {
			t.Errorf("weakCipher(%q) = %q, want %q", name, got, want)
		}
	}
}
