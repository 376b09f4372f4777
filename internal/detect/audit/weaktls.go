package audit

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// TLSConfig configures the certificate and protocol checks on TLS
// handshakes.
type TLSConfig struct {
	Enabled bool `yaml:"enabled"`
	// ExpiringDays flags a certificate that expires within this many
	// days of the session (AWS's default is 30).
	ExpiringDays int `yaml:"expiring_days"`
	// Keys shorter than these are weak (RSA and DSA; ECDSA).
	MinRSABits int `yaml:"min_rsa_bits"`
	MinECBits  int `yaml:"min_ec_bits"`
	// WeakSignatures flags certificates signed with MD2, MD5 or SHA-1
	// (not self-signed ones: nothing checks a self-signature).
	WeakSignatures bool `yaml:"weak_signatures"`
	// SelfSigned flags self-signed certificates, the servers' and the
	// devices': off by default, as many devices and brokers inside a
	// network use them on purpose.
	SelfSigned bool `yaml:"self_signed"`
	// MinVersion is the lowest negotiated version that is not flagged:
	// SSLv3, TLSv10, TLSv11, TLSv12 or TLSv13.
	MinVersion string `yaml:"min_version"`
	// WeakCiphers flags NULL, anonymous, export, RC4, DES and 3DES
	// suites.
	WeakCiphers bool `yaml:"weak_ciphers"`
	// MaxKeys bounds the findings remembered to report each once per
	// repeat_every.
	MaxKeys int `yaml:"max_keys"`
}

func defaultTLSConfig() TLSConfig {
	return TLSConfig{Enabled: true, ExpiringDays: 30, MinRSABits: 2048, MinECBits: 256,
		WeakSignatures: true, MinVersion: "TLSv12", WeakCiphers: true, MaxKeys: 100_000}
}

// tlsVersions ranks the versions the DPI names.
var tlsVersions = map[string]int{"SSLv3": 1, "TLSv10": 2, "TLSv11": 3, "TLSv12": 4, "TLSv13": 5}

// Validate names the key at fault.
func (c TLSConfig) Validate() error {
	switch {
	case c.ExpiringDays < 0:
		return fmt.Errorf("expiring_days: %d is negative", c.ExpiringDays)
	case c.MinRSABits < 0:
		return fmt.Errorf("min_rsa_bits: %d is negative", c.MinRSABits)
	case c.MinECBits < 0:
		return fmt.Errorf("min_ec_bits: %d is negative", c.MinECBits)
	case c.MaxKeys < 1:
		return fmt.Errorf("max_keys: %d, want at least 1", c.MaxKeys)
	}
	if _, ok := tlsVersions[c.MinVersion]; !ok && c.MinVersion != "" {
		return fmt.Errorf("min_version: %q, want SSLv3, TLSv10, TLSv11, TLSv12 or TLSv13 (or empty: no version check)", c.MinVersion)
	}
	return nil
}

// The problems weakTLS reports; each is its own finding.
type tlsProblem uint8

const (
	certExpired tlsProblem = iota + 1
	certNotYetValid
	certExpiring
	certWeakKey
	certWeakSignature
	certSelfSigned
	weakVersion
	weakCipherSuite
)

// tlsKey is one finding: a problem of a certificate (by hash; client
// says whose), or of the protocol a server negotiated.
type tlsKey struct {
	tenant  string
	problem tlsProblem
	client  bool
	cert    string // sha256, for certificate problems
	server  device // for protocol problems
	detail  string // the version or cipher
}

// weakTLS checks each handshake the DPI decoded: the server's and the
// client's certificates (validity at the session's start, key size,
// signature, self-signature) and the negotiated version and cipher. It
// keeps no state but the throttle that reports each finding once per
// repeat_every.
type weakTLS struct {
	cfg     TLSConfig
	minVer  int
	th      *throttle[tlsKey]
	ciphers map[string]string // weakCipher's verdicts by name: few names, asked all day
}

func newWeakTLS(c TLSConfig, repeat time.Duration) *weakTLS {
	return &weakTLS{cfg: c, minVer: tlsVersions[c.MinVersion], th: newThrottle[tlsKey](repeat, c.MaxKeys), ciphers: map[string]string{}}
}

func (*weakTLS) Name() string { return "weak-tls" }

func (d *weakTLS) Evictions() uint64 { return d.th.evicted }

func (d *weakTLS) Tick(now time.Time, _ func(detect.Report)) { d.th.expire(now) }

func (d *weakTLS) Session(s *schema.Session, report func(detect.Report)) {
	if s.L7 == nil || s.L7.TLS == nil {
		return
	}
	t := s.L7.TLS
	if t.Cert != nil {
		d.cert(s, t.Cert, false, report)
	}
	if t.ClientCert != nil {
		d.cert(s, t.ClientCert, true, report)
	}
	if v, ok := tlsVersions[t.Version]; ok && v < d.minVer {
		sev := detect.Medium
		if t.Version == "SSLv3" {
			sev = detect.High
		}
		if d.due(s, tlsKey{problem: weakVersion, server: deviceOf(&s.Resp), detail: t.Version}) {
			r := d.protocolReport(s, "tls-weak-version", sev, t.Version)
			r.Summary = fmt.Sprintf("%s:%d negotiated %s with %s (minimum %s)", s.Resp.IP, s.Resp.Port, t.Version, s.Orig.IP, d.cfg.MinVersion)
			report(r)
		}
	}
	if d.cfg.WeakCiphers && t.Cipher != "" {
		if class := d.cipherClass(t.Cipher); class != "" && d.due(s, tlsKey{problem: weakCipherSuite, server: deviceOf(&s.Resp), detail: t.Cipher}) {
			sev := detect.High
			if class == cipher3DES {
				sev = detect.Medium
			}
			r := d.protocolReport(s, "tls-weak-cipher", sev, t.Cipher)
			r.Summary = fmt.Sprintf("%s:%d negotiated %s (%s) with %s", s.Resp.IP, s.Resp.Port, t.Cipher, class, s.Orig.IP)
			report(r)
		}
	}
}

// due reports whether the finding k (of s's tenant) is to be reported now.
func (d *weakTLS) due(s *schema.Session, k tlsKey) bool {
	k.tenant = s.Tenant
	return d.th.due(k, s.End)
}

func (d *weakTLS) cipherClass(name string) string {
	class, ok := d.ciphers[name]
	if !ok {
		class = weakCipher(name)
		if len(d.ciphers) >= 1024 { // names are a few dozen; a hostile peer's hex ids must not grow this
			clear(d.ciphers)
		}
		d.ciphers[name] = class
	}
	return class
}

func (d *weakTLS) protocolReport(s *schema.Session, rule string, sev detect.Severity, detail string) detect.Report {
	r := detect.Report{Time: s.End, Tenant: s.Tenant, Rule: rule, Severity: sev}
	r.Entities = append(detect.EndpointEntities(detect.EndpointEntities(nil, &s.Resp), &s.Orig), detect.PortEntity(s.Resp.Port))
	r.DedupeKey = fmt.Sprintf("%s|%s|%s", rule, deviceOf(&s.Resp), detail)
	r.Sessions = []string{refOf(s).String()}
	return r
}

// cert checks one certificate at the session's start, when it was
// presented.
func (d *weakTLS) cert(s *schema.Session, c *schema.Cert, client bool, report func(detect.Report)) {
	if c.SHA256 == "" {
		return
	}
	at := s.Start
	if at.IsZero() {
		at = s.End
	}
	if !c.NotAfter.IsZero() {
		days := c.NotAfter.Sub(at).Hours() / 24
		switch {
		case at.After(c.NotAfter):
			d.certReport(s, c, client, certExpired, detect.High, report, func(r *detect.Report, whose string) {
				r.Summary = fmt.Sprintf("%s expired %.0f days before the session (not after %s)", whose, math.Ceil(-days), c.NotAfter.Format(time.DateOnly))
				r.Values = map[string]float64{"days_to_expiry": math.Floor(days)}
			})
		case at.Before(c.NotBefore):
			d.certReport(s, c, client, certNotYetValid, detect.Medium, report, func(r *detect.Report, whose string) {
				r.Summary = fmt.Sprintf("%s is not valid before %s: the device clock or the certificate is wrong", whose, c.NotBefore.Format(time.DateOnly))
				r.Values = map[string]float64{"days_to_validity": math.Ceil(c.NotBefore.Sub(at).Hours() / 24)}
			})
		case days < float64(d.cfg.ExpiringDays):
			d.certReport(s, c, client, certExpiring, detect.Medium, report, func(r *detect.Report, whose string) {
				r.Summary = fmt.Sprintf("%s expires in %.0f days (not after %s)", whose, math.Floor(days), c.NotAfter.Format(time.DateOnly))
				r.Values = map[string]float64{"days_to_expiry": math.Floor(days), "expiring_days": float64(d.cfg.ExpiringDays)}
			})
		}
	}
	if need := d.minBits(c.KeyAlg); c.KeyBits > 0 && c.KeyBits < need {
		sev := detect.High
		if client {
			sev = detect.Critical // as AWS rates DEVICE_CERTIFICATE_KEY_QUALITY_CHECK
		}
		d.certReport(s, c, client, certWeakKey, sev, report, func(r *detect.Report, whose string) {
			r.Summary = fmt.Sprintf("%s has a %d-bit %s key (minimum %d)", whose, c.KeyBits, c.KeyAlg, need)
			r.Values = map[string]float64{"key_bits": float64(c.KeyBits), "min_bits": float64(need)}
		})
	}
	if d.cfg.WeakSignatures && !c.SelfSigned && weakSignature(c.SigAlg) {
		d.certReport(s, c, client, certWeakSignature, detect.Medium, report, func(r *detect.Report, whose string) {
			r.Summary = fmt.Sprintf("%s is signed with %s, which can be forged", whose, c.SigAlg)
		})
	}
	if d.cfg.SelfSigned && c.SelfSigned {
		d.certReport(s, c, client, certSelfSigned, detect.Low, report, func(r *detect.Report, whose string) {
			r.Summary = fmt.Sprintf("%s is self-signed: clients can only trust it by pinning it, or by not checking", whose)
		})
	}
}

// minBits is the shortest key of the algorithm that is not weak; 0 for
// algorithms without a size rule (Ed25519, unknown).
func (d *weakTLS) minBits(alg string) int {
	switch alg {
	case "RSA", "DSA":
		return d.cfg.MinRSABits
	case "ECDSA":
		return d.cfg.MinECBits
	}
	return 0
}

// weakSignature recognises crypto/x509's names of MD2, MD5 and SHA-1
// signatures ("MD5-RSA", "SHA1-RSA", "DSA-SHA1", "ECDSA-SHA1").
func weakSignature(alg string) bool {
	return strings.Contains(alg, "MD2") || strings.Contains(alg, "MD5") || strings.Contains(alg, "SHA1")
}

// certRules are the rules of certificate problems: AWS's check names for
// device (client) certificates, where AWS has one.
var certRules = map[tlsProblem][2]string{ // server, client
	certExpired:       {"server-certificate-expiring", "DEVICE_CERTIFICATE_EXPIRING_CHECK"},
	certNotYetValid:   {"server-certificate-expiring", "DEVICE_CERTIFICATE_EXPIRING_CHECK"},
	certExpiring:      {"server-certificate-expiring", "DEVICE_CERTIFICATE_EXPIRING_CHECK"},
	certWeakKey:       {"server-certificate-key-quality", "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK"},
	certWeakSignature: {"server-certificate-weak-signature", "device-certificate-weak-signature"},
	certSelfSigned:    {"server-certificate-self-signed", "device-certificate-self-signed"},
}

// problemNames are the problems in dedupe keys (the expiry rules have
// three).
var problemNames = map[tlsProblem]string{
	certExpired: "expired", certNotYetValid: "not-yet-valid", certExpiring: "expiring",
	certWeakKey: "weak-key", certWeakSignature: "weak-signature", certSelfSigned: "self-signed",
}

// certReport reports a certificate problem unless it was reported within
// repeat_every; fill adds the summary and values.
func (d *weakTLS) certReport(s *schema.Session, c *schema.Cert, client bool, p tlsProblem, sev detect.Severity,
	report func(detect.Report), fill func(r *detect.Report, whose string)) {
	if !d.due(s, tlsKey{problem: p, client: client, cert: c.SHA256}) {
		return
	}
	rule, owner, peer, whose := certRules[p][0], &s.Resp, &s.Orig, "server certificate"
	if client {
		rule, owner, peer, whose = certRules[p][1], &s.Orig, &s.Resp, "client certificate"
	}
	r := detect.Report{Time: s.End, Tenant: s.Tenant, Rule: rule, Severity: sev}
	r.Entities = detect.EndpointEntities(detect.EndpointEntities([]string{"cert:" + c.SHA256}, owner), peer)
	r.DedupeKey = rule + "|" + problemNames[p] + "|" + c.SHA256
	r.Sessions = []string{refOf(s).String()}
	fill(&r, fmt.Sprintf("%s %q of %s", whose, certName(c), owner.IP))
	report(r)
}
