package decode

import (
	"errors"
	"strconv"
)

// Reason classifies a decode error; the decoder counts each. An unknown
// EtherType or IP protocol is not an error: the frame is counted as non-IP
// or kept with an undecoded payload.
type Reason uint8

const (
	ReasonTruncated       Reason = iota // a header is cut by the capture (or by an outer length)
	ReasonBadIPVersion                  // the version nibble is neither 4 nor 6
	ReasonBadHeaderLength               // a header length field is out of range
	ReasonBadVersion                    // a tunnel header of an unknown version (GENEVE)
	ReasonUnsupportedLink               // a link type the decoder does not know
	ReasonTooDeep                       // more than MaxTunnels nested encapsulations
	ReasonBadTunnelHeader               // a listener's datagram that is not the tunnel it claims (VXLAN without the I flag)
	numReasons
)

var reasonNames = [numReasons]string{"truncated header", "bad IP version", "bad header length",
	"bad version", "unsupported link type", "tunnels nested too deep", "bad tunnel header"}

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
	ErrBadTunnelHeader = errors.New(ReasonBadTunnelHeader.String())
)

// sentinel maps a Reason to its sentinel error. It is a switch rather than
// a package-level table so that the package holds no mutable globals.
func (r Reason) sentinel() error {
	switch r {
	case ReasonTruncated:
		return ErrTruncated
	case ReasonBadIPVersion:
		return ErrBadIPVersion
	case ReasonBadHeaderLength:
		return ErrBadHeaderLength
	case ReasonBadVersion:
		return ErrBadVersion
	case ReasonUnsupportedLink:
		return ErrUnsupportedLink
	case ReasonTooDeep:
		return ErrTooDeep
	case ReasonBadTunnelHeader:
		return ErrBadTunnelHeader
	}
	return nil
}

// Error is a decode error at a layer and byte offset within the frame,
// e.g. "decode ipv4 at offset 34: truncated header". The decoder reuses
// one Error so that failing packets do not allocate: it is valid only
// until the next Decode; copy it (or its text) to keep it.
type Error struct {
	Layer  string // "ethernet", "ipv4", "tcp", "vxlan", …
	Offset int    // byte offset of the header within the frame
	Reason Reason
}

func (e *Error) Error() string {
	return "decode " + e.Layer + " at offset " + strconv.Itoa(e.Offset) + ": " + e.Reason.String()
}

// Unwrap returns the sentinel of the reason, for errors.Is.
func (e *Error) Unwrap() error { return e.Reason.sentinel() }
