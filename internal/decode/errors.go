package decode

import (
	"errors"
	"strconv"
)

// Reason classifies a decode error; the decoder counts each.
type Reason uint8

const (
	ReasonTruncated Reason = iota
	ReasonBadIPVersion
	ReasonBadHeaderLength
	ReasonBadVersion
	ReasonUnsupportedLink
	ReasonTooDeep
	numReasons
)

var reasonNames = [numReasons]string{"truncated header", "bad IP version", "bad header length",
	"bad version", "unsupported link type", "tunnels nested too deep"}

func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "reason " + strconv.Itoa(int(r))
}

// Sentinel errors, one per Reason, for errors.Is.
var (
	ErrTruncated       = errors.New(ReasonTruncated.String())
	ErrBadIPVersion    = errors.New(ReasonBadIPVersion.String())
	ErrBadHeaderLength = errors.New(ReasonBadHeaderLength.String())
	ErrBadVersion      = errors.New(ReasonBadVersion.String())
	ErrUnsupportedLink = errors.New(ReasonUnsupportedLink.String())
	ErrTooDeep         = errors.New(ReasonTooDeep.String())
	sentinels          = [numReasons]error{ErrTruncated, ErrBadIPVersion, ErrBadHeaderLength, ErrBadVersion, ErrUnsupportedLink, ErrTooDeep}
)

// Error is a decode error at a layer and byte offset within the frame.
// The decoder reuses one Error: it is valid only until the next Decode.
type Error struct {
	Layer  string
	Offset int
	Reason Reason
}

func (e *Error) Error() string {
	return "decode " + e.Layer + " at offset " + strconv.Itoa(e.Offset) + ": " + e.Reason.String()
}

// Unwrap returns the sentinel of the reason.
func (e *Error) Unwrap() error {
	if e.Reason < numReasons {
		return sentinels[e.Reason]
	}
	return nil
}

// Stats counts what the decoder saw.
type Stats struct {
	Packets   uint64
	NonIP     uint64 // frames without an IP packet (ARP, LLC, unknown EtherType)
	ARP       uint64
	Fragments uint64
	Truncated uint64 // captured less than the IP length says
	Tunnels   [TunnelERSPAN3 + 1]uint64
	Errors    [numReasons]uint64
}

// ErrorsByReason lists the non-zero error counters by reason name.
func (s Stats) ErrorsByReason() map[string]uint64 {
	m := map[string]uint64{}
	for r, n := range s.Errors {
		if n > 0 {
			m[Reason(r).String()] = n
		}
	}
	return m
}

// Add sums two Stats (for several decoders).
func (s *Stats) Add(o Stats) {
	s.Packets += o.Packets
	s.NonIP += o.NonIP
	s.ARP += o.ARP
	s.Fragments += o.Fragments
	s.Truncated += o.Truncated
	for i := range s.Tunnels {
		s.Tunnels[i] += o.Tunnels[i]
	}
	for i := range s.Errors {
		s.Errors[i] += o.Errors[i]
	}
}
