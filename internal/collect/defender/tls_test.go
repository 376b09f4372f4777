package defender

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pki writes a CA, a server certificate for 127.0.0.1 and a device
// certificate whose common name is the thing name; it returns their
// paths (cert, key) by name.
func pki(t *testing.T, thing string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	paths := map[string]string{}
	write := func(name, typ string, der []byte) {
		p := filepath.Join(dir, name)
		writePEM(t, p, typ, der)
		paths[name] = p
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "osprey test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	write("ca.pem", "CERTIFICATE", caDER)
	issue := func(name string, tmpl *x509.Certificate) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl.NotBefore, tmpl.NotAfter = ca.NotBefore, ca.NotAfter
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalECPrivateKey(key)
		write(name+".pem", "CERTIFICATE", der)
		write(name+".key", "EC PRIVATE KEY", kder)
	}
	issue("server", &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	issue("device", &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: thing},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return paths
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	writeFileAt(t, path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// A device certificate's common name is the one thing its holder
// reports for, as in AWS IoT.
func TestEmbeddedBrokerClientCertificates(t *testing.T) {
	needMosquitto(t, "mosquitto_pub", "mosquitto_sub")
	p := pki(t, "cam-9")
	cfg := mqttConfig()
	cfg.MQTT.TLS = TLSConfig{Cert: p["server.pem"], Key: p["server.key"], ClientCA: p["ca.pem"]}
	h := startCollector(t, cfg, nil)
	noCert := clientFor(t, h.mqttAddr, "--cafile", p["ca.pem"])
	if err := noCert.publish(t, "$aws/things/cam-9/defender/metrics/json", "-m", "{}"); err == nil {
		t.Error("a device without a certificate was let in")
	}
	dev := clientFor(t, h.mqttAddr, "--cafile", p["ca.pem"], "--cert", p["device.pem"], "--key", p["device.key"])
	dev.publish(t, "$aws/things/cam-8/defender/metrics/json", "-m", `{"hed":{"rid":1,"v":"1.0"},"cmet":{"t":[{"number":1}]}}`)
	sub := dev.subscribe(t, "$aws/things/cam-9/defender/metrics/json/+")
	for id := 1; ; id++ {
		if err := dev.publish(t, "$aws/things/cam-9/defender/metrics/json", "-m", fmt.Sprintf(`{"hed":{"rid":%d,"v":"1.0"},"cmet":{"t":[{"number":1}]}}`, id)); err != nil {
			t.Fatal(err)
		}
		select {
		case line := <-sub.lines:
			topic, r := parseReplyLine(t, line)
			if !strings.HasSuffix(topic, "/accepted") || r.ThingName != "cam-9" {
				t.Errorf("reply on %s: %+v", topic, r)
			}
		case <-time.After(300 * time.Millisecond):
			if id < 60 {
				continue
			}
			t.Fatal("no reply")
		}
		break
	}
	if got := h.sink.byDevice("cam-8"); len(got) != 0 {
		t.Errorf("cam-9 reported for cam-8: %v", got)
	}
}
