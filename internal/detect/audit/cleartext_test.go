package audit

import (
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestCleartextManagement(t *testing.T) {
	app := func(name, by string) func(*schema.Session) {
		return func(s *schema.Session) { s.App, s.L7 = name, &schema.L7{By: by} }
	}
	udp := func(s *schema.Session) { s.Proto, s.Transport = 17, "udp" }
	probe := func(ua string) func(*schema.Session) {
		return func(s *schema.Session) {
			s.L7.HTTP = &schema.HTTP{Method: "GET", URI: "/healthz", UserAgent: ua, Status: 200}
		}
	}
	refused := func(s *schema.Session) {
		s.ConnState, s.History, s.RespPkts, s.OrigBytes, s.RespBytes = "REJ", "Sr", 1, 0, 0
	}
	tests := []struct {
		name     string
		s        *schema.Session
		rule     string
		key      string
		severity detect.Severity
		entities []string
	}{
		{"telnet served by a device", sess("10.0.0.5", "10.0.0.9", 23, 0, time.Second, app("telnet", "content")),
			"cleartext-management-telnet", "cleartext-management-telnet|ip:10.0.0.9", detect.High, []string{"ip:10.0.0.9", "ip:10.0.0.5", "port:23"}},
		{"telnet recognised off its port", sess("10.0.0.5", "10.0.0.9", 2222, 0, time.Second, app("telnet", "content")),
			"cleartext-management-telnet", "cleartext-management-telnet|ip:10.0.0.9", detect.High, nil},
		{"ftp used towards the internet", sess("10.0.0.5", "198.51.100.7", 21, 0, time.Second, app("ftp", "content")),
			"cleartext-management-ftp", "cleartext-management-ftp|ip:10.0.0.5", detect.Medium, []string{"ip:10.0.0.5", "ip:198.51.100.7"}},
		{"snmp by port", sess("10.0.0.5", "10.0.0.9", 161, 0, time.Second, udp, app("snmp", "port")),
			"cleartext-management-snmp", "cleartext-management-snmp|ip:10.0.0.9", detect.Medium, nil},
		{"rlogin without a label", sess("10.0.0.5", "10.0.0.9", 513, 0, time.Second),
			"cleartext-management-rlogin", "cleartext-management-rlogin|ip:10.0.0.9", detect.High, nil},
		{"camera web interface", sess("10.0.0.5", "10.0.0.9", 80, 0, time.Second, app("http", "content")),
			"cleartext-management-http", "cleartext-management-http|ip:10.0.0.9", detect.Low, nil},
		{"asset keyed", sess("10.0.0.5", "10.0.0.9", 5900, 0, time.Second, app("vnc", "port"), func(s *schema.Session) { s.Resp.Asset = "cam-7" }),
			"cleartext-management-vnc", "cleartext-management-vnc|asset:cam-7", detect.Medium, []string{"asset:cam-7"}},
		{"load balancer health checks", sess("10.0.0.5", "10.0.0.9", 80, 0, time.Second, app("http", "content"), probe("ELB-HealthChecker/2.0")), "", "", "", nil},
		{"kubelet probes", sess("10.0.0.5", "10.0.0.9", 8080, 0, time.Second, app("http", "content"), probe("kube-probe/1.30")), "", "", "", nil},
		{"a browser on the same port", sess("10.0.0.5", "10.0.0.9", 80, 0, time.Second, app("http", "content"), probe("Mozilla/5.0")),
			"cleartext-management-http", "cleartext-management-http|ip:10.0.0.9", detect.Low, nil},
		{"browsing over plain HTTP", sess("10.0.0.5", "198.51.100.7", 80, 0, time.Second, app("http", "content")), "", "", "", nil},
		{"HTTP API off the management ports", sess("10.0.0.5", "10.0.0.9", 3000, 0, time.Second, app("http", "content")), "", "", "", nil},
		{"TLS on the telnet port", sess("10.0.0.5", "10.0.0.9", 23, 0, time.Second, app("tls", "content")), "", "", "", nil},
		{"refused telnet (a scan)", sess("10.0.0.5", "10.0.0.9", 23, 0, time.Second, refused), "", "", "", nil},
		{"unanswered tftp", sess("10.0.0.5", "10.0.0.9", 69, 0, time.Second, udp, func(s *schema.Session) { s.ConnState, s.RespPkts = "S0", 0 }), "", "", "", nil},
		{"flow record", sess("10.0.0.5", "10.0.0.9", 23, 0, time.Second, func(s *schema.Session) { s.Flow = &schema.Flow{Action: "accept"} }), "", "", "", nil},
		{"between two outside hosts", sess("203.0.113.5", "198.51.100.7", 23, 0, time.Second), "", "", "", nil},
		{"ssh", sess("10.0.0.5", "10.0.0.9", 22, 0, time.Second, app("ssh", "content")), "", "", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := run(newCleartextMgmt(DefaultConfig().Cleartext, 10*time.Minute), tc.s)
			if tc.rule == "" {
				none(t, rs)
				return
			}
			if r := one(t, rs, tc.rule, tc.key, tc.entities...); r.Severity != tc.severity {
				t.Errorf("severity %s, want %s", r.Severity, tc.severity)
			}
		})
	}
	t.Run("one finding per device and protocol", func(t *testing.T) {
		var ss []*schema.Session
		for i := range 50 { // 50 clients of one telnet server in five minutes
			ss = append(ss, sess("10.0.1."+itoa(i), "10.0.0.9", 23, time.Duration(i)*6*time.Second, time.Second, app("telnet", "content")))
		}
		one(t, run(newCleartextMgmt(DefaultConfig().Cleartext, 10*time.Minute), ss...), "cleartext-management-telnet", "cleartext-management-telnet|ip:10.0.0.9")
	})
	t.Run("protocols not checked", func(t *testing.T) {
		cfg := DefaultConfig().Cleartext
		cfg.Protocols = []string{"ftp"}
		none(t, run(newCleartextMgmt(cfg, 10*time.Minute), sess("10.0.0.5", "10.0.0.9", 23, 0, time.Second, app("telnet", "content"))))
	})
}
