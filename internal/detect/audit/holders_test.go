package audit

import (
	"strconv"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestSharedCert(t *testing.T) {
	cert := func(sha string) func(*schema.Session) {
		return withTLS(&schema.TLS{Version: "TLSv12", Cert: goodCert("broker"), ClientCert: goodCert(sha)})
	}
	d := func() *sharedCert { return newSharedCert(DefaultConfig().SharedCert, 10*time.Minute) }
	const m = time.Minute
	t.Run("two devices at once", func(t *testing.T) {
		r := one(t, run(d(),
			sess("10.0.0.5", "10.9.0.1", 8883, 0, 30*m, cert("aa")),
			sess("10.0.0.6", "10.9.0.1", 8883, 10*m, 30*m, cert("aa")),
		), "DEVICE_CERTIFICATE_SHARED_CHECK", "DEVICE_CERTIFICATE_SHARED_CHECK|aa", "cert:aa", "ip:10.0.0.5", "ip:10.0.0.6", "ip:10.9.0.1")
		if r.Values["devices"] != 2 || r.Values["overlapping"] != 1 || r.Severity != "critical" || len(r.Sessions) != 2 {
			t.Errorf("report %+v", r)
		}
	})
	t.Run("two devices in turn", func(t *testing.T) {
		r := one(t, run(d(),
			sess("10.0.0.5", "10.9.0.1", 8883, 0, m, cert("aa")),
			sess("10.0.0.6", "10.9.0.1", 8883, 2*m, m, cert("aa")),
			sess("10.0.0.5", "10.9.0.1", 8883, 4*m, m, cert("aa")),
		), "DEVICE_CERTIFICATE_SHARED_CHECK", "DEVICE_CERTIFICATE_SHARED_CHECK|aa", "ip:10.0.0.5", "ip:10.0.0.6")
		if r.Values["alternating"] != 1 || r.Values["overlapping"] != 0 {
			t.Errorf("values %v", r.Values)
		}
	})
	t.Run("the long session reported last", func(t *testing.T) {
		// Records come in order of their end: the short session of the
		// second device first, then the long one it overlapped.
		one(t, run(d(),
			sess("10.0.0.6", "10.9.0.1", 8883, 50*m, 10*m, cert("aa")),
			sess("10.0.0.5", "10.9.0.1", 8883, 0, 100*m, cert("aa")),
		), "DEVICE_CERTIFICATE_SHARED_CHECK", "DEVICE_CERTIFICATE_SHARED_CHECK|aa")
	})
	t.Run("a short session within another", func(t *testing.T) {
		one(t, run(d(),
			sess("10.0.0.6", "10.9.0.1", 8883, 10*m, time.Second, cert("aa")),
			sess("10.0.0.5", "10.9.0.1", 8883, 9*m, 2*m, cert("aa")),
		), "DEVICE_CERTIFICATE_SHARED_CHECK", "DEVICE_CERTIFICATE_SHARED_CHECK|aa")
	})
	t.Run("one asset across addresses", func(t *testing.T) {
		none(t, run(d(),
			sess("10.0.0.5", "10.9.0.1", 8883, 0, 30*m, cert("aa"), asset("thing-1")),
			sess("10.0.0.77", "10.9.0.1", 8883, 10*m, 30*m, cert("aa"), asset("thing-1")),
		))
	})
	t.Run("a device moving to a new address", func(t *testing.T) {
		none(t, run(d(),
			sess("10.0.0.5", "10.9.0.1", 8883, 0, 10*m, cert("aa")),
			sess("10.0.0.5", "10.9.0.1", 8883, 11*m, 10*m, cert("aa")),
			sess("10.0.0.9", "10.9.0.1", 8883, 30*m, 10*m, cert("aa")),
			sess("10.0.0.9", "10.9.0.1", 8883, 41*m, 10*m, cert("aa")),
		))
	})
	t.Run("uses farther apart than the window", func(t *testing.T) {
		none(t, run(d(),
			sess("10.0.0.5", "10.9.0.1", 8883, 0, m, cert("aa")),
			sess("10.0.0.6", "10.9.0.1", 8883, 2*time.Hour, m, cert("aa")),
			sess("10.0.0.5", "10.9.0.1", 8883, 4*time.Hour, m, cert("aa")),
		))
	})
	t.Run("devices with their own certificates", func(t *testing.T) {
		none(t, run(d(),
			sess("10.0.0.5", "10.9.0.1", 8883, 0, 30*m, cert("aa")),
			sess("10.0.0.6", "10.9.0.1", 8883, 10*m, 30*m, cert("bb")),
		))
	})
	t.Run("one server certificate on a load-balanced farm", func(t *testing.T) {
		var ss []*schema.Session
		for i := range 20 {
			ss = append(ss, sess("10.0.0.5", "10.9.0."+itoa(i), 443, time.Duration(i)*time.Second, 30*m,
				withTLS(&schema.TLS{Version: "TLSv12", Cert: goodCert("farm")})))
		}
		none(t, run(d(), ss...))
	})
	t.Run("reported again after repeat_every only", func(t *testing.T) {
		det := d()
		var ss []*schema.Session
		for i := range 40 { // two devices alternating every minute for 40 minutes
			ss = append(ss, sess("10.0.0."+itoa(5+i%2), "10.9.0.1", 8883, time.Duration(i)*m, 30*time.Second, cert("aa")))
		}
		if rs := run(det, ss...); len(rs) != 4 {
			t.Errorf("%d reports over 40 minutes, want 4 (every 10 minutes)", len(rs))
		}
	})
}

func TestConflictingClientIDs(t *testing.T) {
	d := func() *clientIDs { return newClientIDs(DefaultConfig().ClientIDs, 10*time.Minute) }
	const s = time.Second
	t.Run("two devices knocking each other off", func(t *testing.T) {
		// The broker drops the older connection when the newer CONNECT
		// arrives: the sessions overlap by a round trip, in turn.
		r := one(t, run(d(),
			sess("10.0.0.5", "10.9.0.1", 1883, 0, 60*s, mqtt("sensor-1")),
			sess("10.0.0.6", "10.9.0.1", 1883, 59*s, 61*s, mqtt("sensor-1")),
			sess("10.0.0.5", "10.9.0.1", 1883, 119*s, 60*s, mqtt("sensor-1")),
		), "CONFLICTING_CLIENT_IDS_CHECK", "CONFLICTING_CLIENT_IDS_CHECK|ip:10.9.0.1|sensor-1",
			"mqtt_client:sensor-1", "ip:10.0.0.5", "ip:10.0.0.6", "ip:10.9.0.1")
		if r.Severity != "high" || r.Values["devices"] != 2 {
			t.Errorf("report %+v", r)
		}
	})
	t.Run("one device reconnecting with its own id", func(t *testing.T) {
		var ss []*schema.Session
		for i := range 10 {
			ss = append(ss, sess("10.0.0.5", "10.9.0.1", 1883, time.Duration(i)*time.Minute, 50*s, mqtt("sensor-1")))
		}
		none(t, run(d(), ss...))
	})
	t.Run("a device back at a new address", func(t *testing.T) {
		// Its lease lapsed while it was off; the broker still held the old
		// connection and closed it when the new CONNECT took the id over,
		// so the old record ends just after the new one starts.
		none(t, run(d(),
			sess("10.0.0.5", "10.9.0.1", 1883, 0, 3600*s, mqtt("envmon-1")),
			sess("10.0.0.5", "10.9.0.1", 1883, 0, 3840*s+20*time.Millisecond, mqtt("envmon-1")),
			sess("10.0.0.77", "10.9.0.1", 1883, 3840*s, 3600*s, mqtt("envmon-1")),
			sess("10.0.0.77", "10.9.0.1", 1883, 3840*s, 7200*s, mqtt("envmon-1")),
		))
	})
	t.Run("a long connection's record after the other device left", func(t *testing.T) {
		// The meter writes the long connection once an hour; the other
		// device's use ended more than the window before that record.
		none(t, run(d(),
			sess("10.0.0.6", "10.9.0.1", 1883, 600*s, 60*s, mqtt("plc-2")),
			sess("10.0.0.5", "10.9.0.1", 1883, 0, 9000*s, mqtt("plc-2")),
		))
	})
	t.Run("same id at two brokers", func(t *testing.T) {
		none(t, run(d(),
			sess("10.0.0.5", "10.9.0.1", 1883, 0, 60*s, mqtt("sensor-1")),
			sess("10.0.0.6", "10.9.0.2", 1883, 30*s, 60*s, mqtt("sensor-1")),
		))
	})
	t.Run("same id in two tenants", func(t *testing.T) {
		other := func(s *schema.Session) { s.Tenant = "globex" }
		none(t, run(d(),
			sess("10.0.0.5", "10.9.0.1", 1883, 0, 60*s, mqtt("sensor-1")),
			sess("10.0.0.6", "10.9.0.1", 1883, 30*s, 60*s, mqtt("sensor-1"), other),
		))
	})
	t.Run("empty ids and refused connects", func(t *testing.T) {
		refused := func(s *schema.Session) { code := uint8(2); s.L7.MQTT.ConnAck = &code }
		none(t, run(d(),
			sess("10.0.0.5", "10.9.0.1", 1883, 0, 60*s, mqtt("")),
			sess("10.0.0.6", "10.9.0.1", 1883, 30*s, 60*s, mqtt("")),
			sess("10.0.0.7", "10.9.0.1", 1883, 0, 60*s, mqtt("sensor-1")),
			sess("10.0.0.8", "10.9.0.1", 1883, 30*s, 60*s, mqtt("sensor-1"), refused),
		))
	})
}

// TestTrackerBounds checks the caps: keys past max_keys evict (and
// count), devices past max_devices are left out, and quiet keys expire.
func TestTrackerBounds(t *testing.T) {
	tr := newTracker[string](time.Hour, 3, 2)
	at := func(ip string, sec int) (*schema.Session, *schema.Endpoint) {
		s := sess(ip, "10.9.0.1", 8883, time.Duration(sec)*time.Second, time.Second)
		return s, &s.Orig
	}
	for i, k := range []string{"a", "b", "c"} {
		s, e := at("10.0.0.1", i)
		tr.observe(k, s, e)
	}
	if len(tr.keys) != 2 || tr.evicted != 1 {
		t.Errorf("%d keys, %d evicted; want 2, 1", len(tr.keys), tr.evicted)
	}
	for i := range 5 {
		s, e := at("10.0.1."+itoa(i), 10)
		tr.observe("c", s, e)
	}
	if n := len(tr.keys["c"].seats); n != 3 {
		t.Errorf("%d seats, want max_devices 3", n)
	}
	tr.expire(t0.Add(3 * time.Hour))
	if len(tr.keys) != 0 || len(tr.free) != 2 {
		t.Errorf("%d keys and %d free after expiry, want 0 and 2", len(tr.keys), len(tr.free))
	}
}

func itoa(i int) string { return strconv.Itoa(i % 250) }
