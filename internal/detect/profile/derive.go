package profile

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/collect/defender"
	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// maxAddrs bounds the addresses a device is seen with in one window
// (aws:source-ip-address).
const maxAddrs = 8

// deriver turns sessions into Device Defender metrics per internal
// device and window, for devices without an agent: what the Device
// Defender agent would have reported, seen from the network.
type deriver struct {
	d       *Detector
	on      bool
	all     bool // a derived-source profile targets every device
	start   time.Time
	windows map[devKey]*window
	live    map[string]liveFlow
	evicted uint64
}

// window is one device's tallies in the current window.
type window struct {
	attrs                              attrs
	active                             bool
	bytesOut, bytesIn, pktsOut, pktsIn uint64
	established, attempts              uint64
	remotes                            map[netip.Addr]struct{}
	tcp, udp                           []uint16
	addrs                              []netip.Addr
}

// liveFlow is what a metered flow's interim records counted so far:
// their counters are cumulative, so each record adds only its excess.
type liveFlow struct {
	origBytes, respBytes, origPkts, respPkts uint64
	window                                   time.Time // the last window that counted it as established
}

// derivedMetrics are the metrics sessions give.
var derivedMetrics = []string{
	defender.MetricBytesOut, defender.MetricBytesIn, defender.MetricPacketsOut, defender.MetricPacketsIn,
	defender.MetricNumEstablishedTCP, defender.MetricDestinationIPs, defender.MetricListeningTCPPorts,
	defender.MetricNumListeningTCP, defender.MetricListeningUDPPorts, defender.MetricNumListeningUDP,
	defender.MetricConnectionAttempts, defender.MetricSourceIP,
}

func newDeriver(d *Detector) deriver {
	dv := deriver{d: d, windows: map[devKey]*window{}, live: map[string]liveFlow{}}
	if !d.cfg.DeriveSessions {
		return dv
	}
	for _, name := range derivedMetrics {
		for _, r := range d.byMetric[name] {
			t := d.targets[r.profile]
			dv.on = dv.on || t.derived
			dv.all = dv.all || t.derived && t.all
		}
	}
	return dv
}

func (dv *deriver) session(s *schema.Session, report func(detect.Report)) {
	if !dv.on {
		return
	}
	t := s.End
	if t.IsZero() {
		t = s.Start
	}
	dv.roll(t, report)
	orig, resp := dv.window(s, &s.Orig), dv.window(s, &s.Resp)
	if orig == nil && resp == nil {
		return
	}
	ob, rb, op, rp, first := dv.delta(s)
	est := first && established(s)
	answered := !unanswered(s)
	for _, side := range []struct {
		w                  *window
		self, peer         *schema.Endpoint
		out, in, pout, pin uint64
	}{{orig, &s.Orig, &s.Resp, ob, rb, op, rp}, {resp, &s.Resp, &s.Orig, rb, ob, rp, op}} {
		w := side.w
		if w == nil {
			continue
		}
		w.active = true
		w.bytesOut += side.out
		w.bytesIn += side.in
		w.pktsOut += side.pout
		w.pktsIn += side.pin
		if est {
			w.established++
		}
		if answered && len(w.remotes) < dv.d.cfg.MaxList {
			w.remotes[side.peer.IP] = struct{}{}
		} else if answered {
			if _, ok := w.remotes[side.peer.IP]; !ok {
				dv.evicted++
			}
		}
		if len(w.addrs) < maxAddrs && !slices.Contains(w.addrs, side.self.IP) {
			w.addrs = append(w.addrs, side.self.IP)
		}
	}
	if orig != nil && attempt(s) {
		orig.attempts++
	}
	if e, ok := server(s); ok && e.Port != 0 {
		w := orig
		if e == &s.Resp {
			w = resp
		}
		if w != nil {
			ports := &w.tcp
			if s.Proto == 17 {
				ports = &w.udp
			}
			if s.Proto == 6 || s.Proto == 17 {
				dv.addPort(ports, e.Port)
			}
		}
	}
}

func (dv *deriver) addPort(ports *[]uint16, p uint16) {
	if slices.Contains(*ports, p) {
		return
	}
	if len(*ports) >= dv.d.cfg.MaxList {
		dv.evicted++
		return
	}
	*ports = append(*ports, p)
}

// window is the current window of the device at endpoint e, or nil when
// no profile derives metrics for it: only internal devices (an asset,
// a segment other than the internet, private space) are measured.
func (dv *deriver) window(s *schema.Session, e *schema.Endpoint) *window {
	ip := e.IP
	if !ip.IsValid() || ip.IsUnspecified() || ip.IsMulticast() || !detect.Internal(e) {
		return nil
	}
	k := devKey{tenant: s.Tenant, kind: kindIP, ip: ip}
	if e.Asset != "" {
		k = devKey{tenant: s.Tenant, kind: kindAsset, id: e.Asset}
	}
	if w, ok := dv.windows[k]; ok {
		return w
	}
	a := attrs{asset: e.Asset, ip: ip, tags: e.Tags, segment: e.Segment, derived: true}
	if !dv.all && !slices.ContainsFunc(dv.d.targets, func(t *target) bool { return t.match(&a) }) {
		return nil
	}
	if len(dv.windows) >= dv.d.cfg.MaxDevices {
		for old := range dv.windows {
			delete(dv.windows, old)
			dv.evicted++
			break
		}
	}
	a.tags = slices.Clone(a.tags) // the session is not ours to keep
	w := &window{attrs: a, remotes: map[netip.Addr]struct{}{}}
	dv.windows[k] = w
	return w
}

// delta is what the record adds to the flow's counters, and whether it
// is the flow's first record in the current window (an established
// connection counts once per window it is active in).
func (dv *deriver) delta(s *schema.Session) (ob, rb, op, rp uint64, first bool) {
	ob, rb, op, rp = ipBytes(s.OrigIPBytes, s.OrigBytes), ipBytes(s.RespIPBytes, s.RespBytes), s.OrigPkts, s.RespPkts
	if s.Flow != nil || s.Seq == 0 && s.Final {
		return ob, rb, op, rp, true
	}
	prev, had := dv.live[s.UID]
	first = !had || !prev.window.Equal(dv.start)
	cur := liveFlow{ob, rb, op, rp, dv.start}
	if s.Final {
		delete(dv.live, s.UID)
	} else {
		if !had && len(dv.live) >= dv.d.cfg.MaxLive {
			for old := range dv.live {
				delete(dv.live, old)
				dv.evicted++
				break
			}
		}
		dv.live[s.UID] = cur
	}
	return sub(ob, prev.origBytes), sub(rb, prev.respBytes), sub(op, prev.origPkts), sub(rp, prev.respPkts), first
}

func sub(cur, prev uint64) uint64 {
	if cur < prev { // a restarted counter: take the record whole
		return cur
	}
	return cur - prev
}

func ipBytes(ip, payload uint64) uint64 {
	if ip > 0 {
		return ip
	}
	return payload
}

// roll closes the current window once t reaches its end: every device
// active in it gives one datapoint per derived metric a profile uses,
// at the window's end, in device order so runs are reproducible.
func (dv *deriver) roll(t time.Time, report func(detect.Report)) {
	if !dv.on {
		return
	}
	win := dv.d.cfg.Window
	if dv.start.IsZero() {
		dv.start = t.Truncate(win)
		return
	}
	end := dv.start.Add(win)
	if t.Before(end) {
		return
	}
	keys := make([]devKey, 0, len(dv.windows))
	for k, w := range dv.windows {
		if w.active {
			keys = append(keys, k)
		} else {
			delete(dv.windows, k) // quiet for a whole window
		}
	}
	slices.SortFunc(keys, func(a, b devKey) int {
		return cmp.Or(strings.Compare(a.tenant, b.tenant), cmp.Compare(a.kind, b.kind),
			strings.Compare(a.id, b.id), a.ip.Compare(b.ip))
	})
	for _, k := range keys {
		w := dv.windows[k]
		dv.emit(dv.d.device(k, w.attrs), w, end, report)
		w.reset()
	}
	dv.start = t.Truncate(win)
}

func (dv *deriver) emit(dev *device, w *window, end time.Time, report func(detect.Report)) {
	for _, name := range derivedMetrics {
		if len(dv.d.byMetric[name]) == 0 {
			continue
		}
		var v float64
		var list []string
		switch name {
		case defender.MetricBytesOut:
			v = float64(w.bytesOut)
		case defender.MetricBytesIn:
			v = float64(w.bytesIn)
		case defender.MetricPacketsOut:
			v = float64(w.pktsOut)
		case defender.MetricPacketsIn:
			v = float64(w.pktsIn)
		case defender.MetricNumEstablishedTCP:
			v = float64(w.established)
		case defender.MetricConnectionAttempts:
			v = float64(w.attempts)
		case defender.MetricNumListeningTCP:
			v = float64(len(w.tcp))
		case defender.MetricNumListeningUDP:
			v = float64(len(w.udp))
		case defender.MetricListeningTCPPorts:
			list = portList(w.tcp)
		case defender.MetricListeningUDPPorts:
			list = portList(w.udp)
		case defender.MetricDestinationIPs:
			addrs := make([]netip.Addr, 0, len(w.remotes))
			for a := range w.remotes {
				addrs = append(addrs, a)
			}
			list = addrList(addrs)
		case defender.MetricSourceIP:
			list = addrList(slices.Clone(w.addrs))
		}
		if list != nil {
			v = float64(len(list))
		}
		dv.d.datapoint(dev, name, end, v, list, report)
	}
}

func (w *window) reset() {
	w.active = false
	w.bytesOut, w.bytesIn, w.pktsOut, w.pktsIn, w.established, w.attempts = 0, 0, 0, 0, 0, 0
	clear(w.remotes)
	w.tcp, w.udp, w.addrs = w.tcp[:0], w.udp[:0], w.addrs[:0]
}

func portList(ports []uint16) []string {
	s := slices.Sorted(slices.Values(ports))
	out := make([]string, len(s))
	for i, p := range s {
		out[i] = strconv.Itoa(int(p))
	}
	return out
}

func addrList(addrs []netip.Addr) []string {
	slices.SortFunc(addrs, netip.Addr.Compare)
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}
