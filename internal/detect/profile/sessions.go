package profile

import (
	"strings"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// These read sessions as the behavioural detectors do
// (docs/detectors.md, "Common rules"), so that both agree on what an
// internal device, an attempt and an answer are.

// reply: a flow record counting a server's answers (source port lower
// than destination port).
func reply(s *schema.Session) bool {
	return s.Flow != nil && s.Flow.Action != "reject" &&
		(s.Proto == 6 || s.Proto == 17) && s.Orig.Port < s.Resp.Port
}

// attempt: a record that starts a connection.
func attempt(s *schema.Session) bool { return s.Seq == 0 && !reply(s) }

// unanswered: refused or ignored by the responder.
func unanswered(s *schema.Session) bool {
	if s.Flow != nil {
		return s.Flow.Action == "reject"
	}
	switch s.ConnState {
	case "S0", "REJ", "RSTOS0", "RSTRH", "SH", "SHR":
		return true
	case "RSTO", "RSTR":
		return s.OrigBytes == 0 && s.RespBytes == 0
	}
	return s.Proto != 6 && s.RespPkts == 0
}

// established: a TCP connection whose handshake completed: a SYN-ACK
// seen ('h'), a state past the handshake, or a flow record with the ACK
// flag.
func established(s *schema.Session) bool {
	if s.Proto != 6 {
		return false
	}
	if s.Flow != nil {
		return s.Flow.Action != "reject" && (s.Flow.TCPFlags&0x10 != 0 || s.RespPkts > 0 && s.OrigPkts > 0)
	}
	switch s.ConnState {
	case "S1", "S2", "S3", "SF", "RSTO", "RSTR":
		return true
	}
	return strings.IndexByte(s.History, 'h') >= 0
}

// server: the endpoint a session proves is listening, if any.
func server(s *schema.Session) (*schema.Endpoint, bool) {
	switch {
	case s.Flow != nil && reply(s):
		return &s.Orig, true
	case s.Flow != nil:
		return &s.Resp, s.Flow.Action != "reject" && s.RespPkts > 0
	case s.Proto == 6:
		return &s.Resp, strings.IndexByte(s.History, 'h') >= 0
	case s.Proto == 17:
		return &s.Resp, s.RespPkts > 0
	}
	return nil, false
}
