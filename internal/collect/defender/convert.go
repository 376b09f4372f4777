package defender

import (
	"slices"
	"strconv"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Device-side metric names, as Device Defender behaviours name them.
const (
	MetricBytesIn            = "aws:all-bytes-in"
	MetricBytesOut           = "aws:all-bytes-out"
	MetricPacketsIn          = "aws:all-packets-in"
	MetricPacketsOut         = "aws:all-packets-out"
	MetricListeningTCPPorts  = "aws:listening-tcp-ports"
	MetricNumListeningTCP    = "aws:num-listening-tcp-ports"
	MetricListeningUDPPorts  = "aws:listening-udp-ports"
	MetricNumListeningUDP    = "aws:num-listening-udp-ports"
	MetricNumEstablishedTCP  = "aws:num-established-tcp-connections"
	MetricDestinationIPs     = "aws:destination-ip-addresses"
	MetricAuthFailures       = "aws:num-authorization-failures"
	MetricSourceIP           = "aws:source-ip-address"
	MetricConnectionAttempts = "aws:num-connection-attempts"
	MetricDisconnects        = "aws:num-disconnects"
	MetricDisconnectDuration = "aws:disconnect-duration"
	MetricMessageByteSize    = "aws:message-byte-size"
	MetricMessagesSent       = "aws:num-messages-sent"
	MetricMessagesReceived   = "aws:num-messages-received"
)

// awsMetrics are the aws: names a cloud-side line may carry.
var awsMetrics = map[string]bool{
	MetricBytesIn: true, MetricBytesOut: true, MetricPacketsIn: true, MetricPacketsOut: true,
	MetricListeningTCPPorts: true, MetricNumListeningTCP: true, MetricListeningUDPPorts: true,
	MetricNumListeningUDP: true, MetricNumEstablishedTCP: true, MetricDestinationIPs: true,
	MetricAuthFailures: true, MetricSourceIP: true, MetricConnectionAttempts: true,
	MetricDisconnects: true, MetricDisconnectDuration: true, MetricMessageByteSize: true,
	MetricMessagesSent: true, MetricMessagesReceived: true,
}

// AppendMetrics appends the report's metrics for thing, at time at, to
// dst. A count the device gave (total) is taken as is; otherwise it is
// the number of distinct entries listed. Ports and destination addresses
// are sorted and without repeats, so equal sets compare equal; custom
// lists keep the device's order.
func (r *Report) AppendMetrics(dst []schema.DeviceMetric, tenant, thing string, at time.Time) []schema.DeviceMetric {
	add := func(name string, v float64, list []string) {
		dst = append(dst, schema.DeviceMetric{Tenant: tenant, Device: thing, Time: at, Name: name, Value: v, List: list})
	}
	for _, lp := range []struct {
		p        *ListeningPorts
		set, num string
	}{{r.TCPPorts, MetricListeningTCPPorts, MetricNumListeningTCP}, {r.UDPPorts, MetricListeningUDPPorts, MetricNumListeningUDP}} {
		if lp.p == nil {
			continue
		}
		ports := make([]uint16, len(lp.p.Ports))
		for i, p := range lp.p.Ports {
			ports[i] = p.Port
		}
		slices.Sort(ports)
		ports = slices.Compact(ports)
		list := make([]string, len(ports))
		for i, p := range ports {
			list[i] = strconv.Itoa(int(p))
		}
		add(lp.set, float64(len(list)), list)
		add(lp.num, orCount(lp.p.Total, len(list)), nil)
	}
	if ns := r.Network; ns != nil {
		for _, s := range []struct {
			name string
			v    int64
		}{{MetricBytesIn, ns.BytesIn}, {MetricBytesOut, ns.BytesOut}, {MetricPacketsIn, ns.PacketsIn}, {MetricPacketsOut, ns.PacketsOut}} {
			if s.v >= 0 {
				add(s.name, float64(s.v), nil)
			}
		}
	}
	if c := r.TCPConns; c != nil {
		ips := make([]string, 0, len(c.Connections))
		for _, conn := range c.Connections {
			ips = append(ips, conn.Remote.Addr().String())
		}
		slices.Sort(ips)
		ips = slices.Compact(ips)
		add(MetricNumEstablishedTCP, orCount(c.Total, len(c.Connections)), nil)
		add(MetricDestinationIPs, float64(len(ips)), ips)
	}
	for _, m := range r.Custom {
		switch m.Kind {
		case CustomNumber:
			add(m.Name, m.Number, nil)
		case CustomNumberList:
			list := make([]string, len(m.Numbers))
			for i, f := range m.Numbers {
				list[i] = strconv.FormatFloat(f, 'g', -1, 64)
			}
			add(m.Name, float64(len(list)), list)
		default:
			add(m.Name, float64(len(m.Strings)), slices.Clone(m.Strings))
		}
	}
	return dst
}

func orCount(total int64, n int) float64 {
	if total >= 0 {
		return float64(total)
	}
	return float64(n)
}
