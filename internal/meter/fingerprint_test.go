package meter

import "testing"

func TestSYNFingerprints(t *testing.T) {
	syn := tcpPacket(seg{true, "S", 0, 0, 0}, 0)
	syn.TTL, syn.Window = 64, 64240
	// Linux: MSS 1460, SACK permitted, timestamps, NOP, window scale 7.
	syn.TCPOptions = []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7}
	synAck := tcpPacket(seg{false, "SA", 0, 1, 0}, 1e6)
	synAck.TTL, synAck.Window = 128, 65535
	synAck.TCPOptions = []byte{2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2, 0x99} // a truncated last option is named, then parsing stops
	retry := tcpPacket(seg{true, "S", 0, 0, 0}, 2e6)
	retry.TTL = 1 // a retransmitted SYN does not replace the first
	out := run(t, DefaultConfig(), syn, synAck, retry)
	if len(out) != 1 {
		t.Fatalf("%d sessions", len(out))
	}
	o, r := out[0].Orig, out[0].Resp
	if o.TTL != 64 || o.TCPSig != "64240:1460:7:mss,sok,ts,nop,ws" {
		t.Errorf("orig ttl %d sig %q", o.TTL, o.TCPSig)
	}
	if r.TTL != 128 || r.TCPSig != "65535:1460:8:mss,nop,ws,nop,nop,sok,153" {
		t.Errorf("resp ttl %d sig %q", r.TTL, r.TCPSig)
	}
	if out := run(t, DefaultConfig(), tcpPacket(seg{true, "A", 1, 1, 10}, 0)); out[0].Orig.TTL != 0 || out[0].Orig.TCPSig != "" {
		t.Errorf("a flow without SYN got a fingerprint: %+v", out[0].Orig)
	}
}
