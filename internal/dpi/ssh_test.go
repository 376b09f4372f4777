package dpi

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// A KEXINIT packet header follows the identification line on the wire.
const kexinit = "\x00\x00\x05\xdc\x06\x14"

func sshFlows() map[string]*Flow {
	return map[string]*Flow{
		"openssh": tcpFlow([]byte("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5\r\n"+kexinit),
			[]byte("SSH-2.0-OpenSSH_8.9p1 Debian-3\r\n"+kexinit)),
		"banner lines first": tcpFlow([]byte("SSH-2.0-PuTTY_Release_0.80\r\n"),
			[]byte("Authorised access only\r\nSSH-2.0-dropbear_2022.83\r\n")),
	}
}

func TestSSH(t *testing.T) {
	flows := sshFlows()
	tests := []struct {
		name  string
		f     *Flow
		score float64
		want  *schema.SSH
	}{
		{"openssh", flows["openssh"], 0.95, &schema.SSH{Client: "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5", Server: "SSH-2.0-OpenSSH_8.9p1 Debian-3"}},
		{"banner lines first", flows["banner lines first"], 0.85, &schema.SSH{Client: "SSH-2.0-PuTTY_Release_0.80", Server: "SSH-2.0-dropbear_2022.83"}},
		{"SSH 1.99 server only", tcpFlow(nil, []byte("SSH-1.99-Cisco-1.25\n")), 0.85, &schema.SSH{Server: "SSH-1.99-Cisco-1.25"}},
		{"not SSH", tcpFlow([]byte("SSH is great\r\n"), nil), 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			score, l7 := run(sshAnalyzer, tc.f)
			if score != tc.score {
				t.Fatalf("Match %v, want %v", score, tc.score)
			}
			if l7 == nil {
				return
			}
			if diff := cmp.Diff(tc.want, l7.SSH); diff != "" {
				t.Errorf("SSH (-want +got):\n%s", diff)
			}
		})
	}
}
