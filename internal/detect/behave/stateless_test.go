package behave

import (
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestIntelHits(t *testing.T) {
	t.Run("listed address", func(t *testing.T) {
		s := sess("10.0.0.7", "203.0.113.66", 443, 0)
		s.Orig.Asset = "i-0abc"
		s.Resp.Intel = []schema.IntelHit{{Feed: "abuse-ch", Indicator: "203.0.113.66", Field: "ip"}}
		one(t, run(intelHits{}, s), "threat-intel|abuse-ch|203.0.113.66|10.0.0.7", "ip:10.0.0.7", "asset:i-0abc", "ip:203.0.113.66")
	})
	t.Run("listed name", func(t *testing.T) {
		s := sess("10.0.0.7", "10.0.0.53", 53, 0, udp)
		s.Intel = []schema.IntelHit{{Feed: "urlhaus", Indicator: "evil.example", Field: "dns.query"}}
		one(t, run(intelHits{}, s), "threat-intel|urlhaus|evil.example|10.0.0.7", "ip:10.0.0.7", "domain:evil.example")
	})
	t.Run("inbound from a listed scanner", func(t *testing.T) {
		s := sess("198.51.100.1", "10.0.0.8", 22, 0)
		s.Orig.Intel = []schema.IntelHit{{Feed: "blocklist", Indicator: "198.51.100.0/24", Field: "ip"}}
		one(t, run(intelHits{}, s), "threat-intel|blocklist|198.51.100.0/24|10.0.0.8", "ip:10.0.0.8")
	})
	t.Run("no hits", func(t *testing.T) {
		none(t, run(intelHits{}, sess("10.0.0.7", "203.0.113.66", 443, 0)))
	})
}

func TestCleartextCredentials(t *testing.T) {
	withCreds := func(c *schema.Cleartext) func(*schema.Session) {
		return func(s *schema.Session) { s.L7 = &schema.L7{By: "content", Cleartext: c} }
	}
	t.Run("ftp password", func(t *testing.T) {
		r := one(t, run(cleartextCredentials{}, sess("10.0.0.7", "10.0.0.21", 21, 0, withCreds(&schema.Cleartext{Protocol: "ftp", User: "bob", Password: true}))),
			"cleartext-credentials|10.0.0.7|10.0.0.21|ftp", "ip:10.0.0.7", "ip:10.0.0.21", "port:21")
		if r.Values["password"] != 1 {
			t.Errorf("values %v", r.Values)
		}
	})
	t.Run("http basic user", func(t *testing.T) {
		r := one(t, run(cleartextCredentials{}, sess("10.0.0.7", "10.0.0.80", 80, 0, withCreds(&schema.Cleartext{Protocol: "http-basic", User: "admin"}))),
			"cleartext-credentials|10.0.0.7|10.0.0.80|http-basic")
		if r.Values["password"] != 0 {
			t.Errorf("values %v", r.Values)
		}
	})
	t.Run("protocol flagged without credentials", func(t *testing.T) {
		none(t, run(cleartextCredentials{}, sess("10.0.0.7", "10.0.0.23", 23, 0, withCreds(&schema.Cleartext{Protocol: "telnet"}))))
	})
	t.Run("no l7", func(t *testing.T) {
		none(t, run(cleartextCredentials{}, sess("10.0.0.7", "10.0.0.21", 21, 0)))
	})
}
