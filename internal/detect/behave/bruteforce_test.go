package behave

import (
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestBruteForce(t *testing.T) {
	cfg := defaultBruteForceConfig()
	tries := func(n int, every time.Duration, opts ...func(*schema.Session)) []*schema.Session {
		var ss []*schema.Session
		for i := range n {
			ss = append(ss, sess("203.0.113.9", "10.0.0.22", 22, time.Duration(i)*every, opts...))
		}
		return ss
	}
	t.Run("ssh guessing fires", func(t *testing.T) {
		r := one(t, run(newBruteForce(cfg), tries(40, 5*time.Second)...), "brute-force|203.0.113.9|10.0.0.22|22",
			"ip:203.0.113.9", "ip:10.0.0.22", "port:22")
		if r.Values["attempts"] != 20 {
			t.Errorf("values %v", r.Values)
		}
	})
	t.Run("below threshold", func(t *testing.T) {
		none(t, run(newBruteForce(cfg), tries(19, 5*time.Second)...))
	})
	t.Run("spread over more than the window", func(t *testing.T) {
		none(t, run(newBruteForce(cfg), tries(40, 20*time.Second)...))
	})
	t.Run("long sessions are work, not attempts", func(t *testing.T) {
		none(t, run(newBruteForce(cfg), tries(40, 5*time.Second, func(s *schema.Session) { s.End = s.Start.Add(time.Hour) })...))
	})
	t.Run("not an authentication port", func(t *testing.T) {
		none(t, run(newBruteForce(cfg), tries(40, time.Second, func(s *schema.Session) { s.Resp.Port = 443 })...))
	})
}
