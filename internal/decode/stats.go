package decode

// Stats counts what a decoder saw. Several decoders' Stats are summed
// with Add.
type Stats struct {
	Packets   uint64
	NonIP     uint64 // frames decoded without error that carry no IP packet (ARP, LLC, unknown EtherType)
	ARP       uint64
	Fragments uint64 // IPv4 and IPv6 fragments, at any tunnel depth
	Truncated uint64 // innermost IP packet captured shorter than its IP length
	Tunnels   [numTunnelKinds]uint64
	Errors    [numReasons]uint64
}

// numTunnelKinds sizes Stats.Tunnels, indexed by TunnelKind.
const numTunnelKinds = int(TunnelERSPAN3) + 1

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

// Add sums o into s (for several decoders).
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
