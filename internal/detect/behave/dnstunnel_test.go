package behave

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func dnsQuery(name, qtype string) func(*schema.Session) {
	return func(s *schema.Session) {
		udp(s)
		s.App, s.L7 = "dns", &schema.L7{By: "content", DNS: &schema.DNS{Query: name, QType: qtype}}
	}
}

func TestDNSTunnel(t *testing.T) {
	cfg := defaultDNSTunnelConfig()
	rng := rand.New(rand.NewPCG(3, 4))
	queries := func(n int, name func(i int) string, qtype string) []*schema.Session {
		var ss []*schema.Session
		for i := range n {
			ss = append(ss, sess("10.0.0.5", "10.0.0.53", 53, time.Duration(i)*time.Second, dnsQuery(name(i), qtype)))
		}
		return ss
	}
	encoded := func(int) string {
		b := make([]byte, 20)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return hex.EncodeToString(b) + ".t.Tunnel.example.com."
	}
	t.Run("hex payloads fire", func(t *testing.T) {
		r := one(t, run(newDNSTunnel(cfg), queries(80, encoded, "A")...), "dns-tunnel|10.0.0.5|example.com",
			"ip:10.0.0.5", "domain:example.com")
		if r.Values["unique_subdomains"] != 50 || r.Values["encoded"] < 50 {
			t.Errorf("values %v", r.Values)
		}
	})
	t.Run("TXT-heavy short names fire", func(t *testing.T) {
		one(t, run(newDNSTunnel(cfg), queries(60, func(i int) string { return fmt.Sprintf("q%d.c2.example.net", i) }, "TXT")...),
			"dns-tunnel|10.0.0.5|example.net")
	})
	t.Run("many plain names of a CDN do not", func(t *testing.T) {
		none(t, run(newDNSTunnel(cfg), queries(200, func(i int) string { return fmt.Sprintf("img%d.cdn.example.org", i) }, "A")...))
	})
	t.Run("encoded but too few", func(t *testing.T) {
		none(t, run(newDNSTunnel(cfg), queries(49, encoded, "A")...))
	})
	t.Run("reverse lookups are ignored", func(t *testing.T) {
		none(t, run(newDNSTunnel(cfg), queries(100, func(i int) string {
			return fmt.Sprintf("%x.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", i)
		}, "PTR")...))
	})
	t.Run("memory cap", func(t *testing.T) {
		c := cfg
		c.MaxKeys = 5
		d := newDNSTunnel(c)
		run(d, queries(100, func(i int) string { return fmt.Sprintf("a.b%d.com", i) }, "A")...)
		if len(d.keys) > 5 || d.Evictions() != 95 {
			t.Errorf("%d keys, %d evictions", len(d.keys), d.Evictions())
		}
	})
}

func TestEntropy(t *testing.T) {
	if e := entropy("aaaa"); e != 0 {
		t.Errorf("entropy(aaaa) = %v", e)
	}
	if e := entropy("0123456789abcdef"); e != 4 {
		t.Errorf("entropy of 16 distinct = %v, want 4", e)
	}
}
