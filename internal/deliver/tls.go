package deliver

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// TLS is how an output's transport checks its receiver and presents
// itself: the `tls` section every network output type has.
type TLS struct {
	CAFile   string `yaml:"ca_file"`   // PEM roots; empty: the system's
	CertFile string `yaml:"cert_file"` // a client certificate, with KeyFile
	KeyFile  string `yaml:"key_file"`
	// ServerName is checked against the receiver's certificate; empty is
	// the host the output connects to.
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Client builds the client configuration (TLS 1.2 at least); host is the
// name checked when ServerName is empty ("" leaves it to the caller,
// as net/http does from the URL). Errors name the key.
func (t TLS) Client(host string) (*tls.Config, error) {
	name := t.ServerName
	if name == "" {
		name = host
	}
	c := &tls.Config{ServerName: name, InsecureSkipVerify: t.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // skip-verify is the user's explicit choice, off by default
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file: %s holds no PEM certificate", t.CAFile)
		}
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
