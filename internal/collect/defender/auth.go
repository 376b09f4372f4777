package defender

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"fmt"
)

// principal is who sent a report, and the things it may report for.
type principal struct {
	name   string          // username or certificate common name; "" when anyone may connect
	things map[string]bool // nil: any thing
}

func (p principal) mayReport(thing string) bool { return p.things == nil || p.things[thing] }

func (p principal) String() string {
	if p.name == "" {
		return "anonymous"
	}
	return fmt.Sprintf("%q", p.name)
}

// authorizer decides who may connect and for which things they report.
// A client certificate, when a client CA is configured, names the one
// thing its holder reports for, as in AWS IoT; otherwise the users list
// applies; with neither, anyone may report for any thing.
type authorizer struct {
	users map[string]user
	certs bool
}

type user struct {
	hash   [32]byte // of the password, so the comparison takes one time
	things map[string]bool
}

func newAuthorizer(cfg *MQTTConfig) (*authorizer, error) {
	a := &authorizer{certs: cfg.TLS.ClientCA != ""}
	if len(cfg.Users) > 0 {
		a.users = make(map[string]user, len(cfg.Users))
	}
	for i, u := range cfg.Users {
		if _, dup := a.users[u.Username]; dup {
			return nil, fmt.Errorf("defender.mqtt.users[%d].username: %q appears twice", i, u.Username)
		}
		e := user{hash: sha256.Sum256([]byte(u.Password))}
		if len(u.Things) > 0 {
			e.things = make(map[string]bool, len(u.Things))
			for _, t := range u.Things {
				e.things[t] = true
			}
		}
		a.users[u.Username] = e
	}
	return a, nil
}

// password checks a username and password; with no users configured
// everyone passes.
func (a *authorizer) password(username, password string) (principal, bool) {
	if a.users == nil {
		return principal{}, true
	}
	u, ok := a.users[username]
	h := sha256.Sum256([]byte(password))
	if !ok || subtle.ConstantTimeCompare(h[:], u.hash[:]) != 1 {
		return principal{}, false
	}
	return principal{name: username, things: u.things}, true
}

// certificate takes the thing name from a verified client certificate.
func certificate(cs tls.ConnectionState) (principal, bool) {
	if len(cs.VerifiedChains) == 0 || len(cs.PeerCertificates) == 0 {
		return principal{}, false
	}
	cn := cs.PeerCertificates[0].Subject.CommonName
	if checkThingName(cn) != nil {
		return principal{}, false
	}
	return principal{name: cn, things: map[string]bool{cn: true}}, true
}
