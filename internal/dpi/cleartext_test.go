package dpi

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

const (
	ftpGreeting = "220 (vsFTPd 3.0.5)\r\n331 Please specify the password.\r\n230 Login successful.\r\n"
	ftpLogin    = "USER alice\r\nPASS wonderland\r\nSYST\r\nPWD\r\n"
	// Telnet as a BusyBox device speaks it: negotiation, then prompts.
	telnetServer = "\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27\xff\xfb\x03\xff\xfb\x01" +
		"\r\nOpenWrt login: " + "root\r\nPassword: " + "\r\n\r\nBusyBox v1.36.1\r\n# "
	telnetClient = "\xff\xfb\x18\xff\xfb\x20\xff\xfa\x18\x00xterm\xff\xf0\xff\xfc\x23\xff\xfd\x03" +
		"roox\x08t\r\n" + "hunter2\r\n" + "uname -a\r\n"
)

func cleartextFlows() map[string]*Flow {
	return map[string]*Flow{
		"ftp login":    tcpFlow([]byte(ftpLogin), []byte(ftpGreeting)),
		"telnet login": tcpFlow([]byte(telnetClient), []byte(telnetServer)),
	}
}

func TestFTP(t *testing.T) {
	flows := cleartextFlows()
	tests := []struct {
		name       string
		orig, resp string
		score      float64
		want       *schema.Cleartext
	}{
		{"login", string(flows["ftp login"].Orig.Data), string(flows["ftp login"].Resp.Data), 0.95, &schema.Cleartext{Protocol: "ftp", User: "alice", Password: true}},
		{"anonymous, user only", "USER anonymous\r\n", "", 0.5, &schema.Cleartext{Protocol: "ftp", User: "anonymous"}},
		{"AUTH TLS accepted: the rest is TLS", "AUTH TLS\r\n\x16\x03\x01USER x\r\n", "220-Welcome\r\n220 FTP server\r\n234 Proceed\r\n", 0.95, nil},
		{"AUTH refused: login in the clear", "AUTH TLS\r\nUSER bob\r\nPASS x\r\n", "220 ftp.example FTP server\r\n500 no\r\n", 0.95, &schema.Cleartext{Protocol: "ftp", User: "bob", Password: true}},
		{"greeting naming FTP", "", "220 ProFTPD Server ready\r\n", 0.7, nil},
		{"SMTP greeting and EHLO", "EHLO client.example\r\n", "220 mx.example ESMTP Postfix\r\n", 0, nil},
		{"SMTP greeting alone", "", "220 mx.example ESMTP Postfix\r\n", 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			score, l7 := run(ftpAnalyzer, tcpFlow([]byte(tc.orig), []byte(tc.resp)))
			if score != tc.score {
				t.Fatalf("Match %v, want %v", score, tc.score)
			}
			if l7 == nil {
				return
			}
			if diff := cmp.Diff(tc.want, l7.Cleartext); diff != "" {
				t.Errorf("Cleartext (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTelnet(t *testing.T) {
	tests := []struct {
		name       string
		orig, resp string
		score      float64
		want       *schema.Cleartext
	}{
		{"login with a backspace", telnetClient, telnetServer, 0.95, &schema.Cleartext{Protocol: "telnet", User: "root", Password: true}},
		{"user from the server's echo", "\xff\xfb\x18", "\xff\xfd\x01login: admin\r\nPassword:", 0.95, &schema.Cleartext{Protocol: "telnet", User: "admin"}},
		{"password prompt only", "\xff\xfc\x01secret\r\n", "\xff\xfb\x01\r\nUser Access Verification\r\n\r\nPassword: ", 0.95,
			&schema.Cleartext{Protocol: "telnet", Password: true}},
		{"negotiation, no prompt", "\xff\xfb\x18", "\xff\xfd\x18Welcome\r\n", 0.95, nil},
		{"server negotiates alone", "", "\xff\xfd\x18", 0.85, nil},
		{"0xff then text is not telnet", "\xffhello", "", 0, nil},
		{"unassigned option", "\xff\xfb\x99", "", 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			score, l7 := run(telnetAnalyzer, tcpFlow([]byte(tc.orig), []byte(tc.resp)))
			if score != tc.score {
				t.Fatalf("Match %v, want %v", score, tc.score)
			}
			if l7 == nil {
				return
			}
			if diff := cmp.Diff(tc.want, l7.Cleartext); diff != "" {
				t.Errorf("Cleartext (-want +got):\n%s", diff)
			}
		})
	}
}
