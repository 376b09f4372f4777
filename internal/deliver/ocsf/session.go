package ocsf

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Network Activity (class 4001, category 4 Network Activity) and its
// activity_id values (events/network/network_activity.json and
// includes/network/network_activities.json).
const (
	classNetworkActivity = 4001
	categoryNetwork      = 4

	activityOpen    = 1
	activityClose   = 2
	activityReset   = 3
	activityFail    = 4
	activityRefuse  = 5
	activityTraffic = 6
)

var networkActivityNames = map[int]string{
	activityOpen: "Open", activityClose: "Close", activityReset: "Reset", activityFail: "Fail",
	activityRefuse: "Refuse", activityTraffic: "Traffic",
}

// sessionActivity chooses the activity of a session record. A flow
// record (cloud flow log, NetFlow) and an interim record report traffic
// over a window; a final record reports how the connection ended, as
// Zeek's conn_state says it: refused (REJ), unanswered (S0: the attempt
// failed), reset (RST*) or closed.
func sessionActivity(s *schema.Session) int {
	if !s.Final || s.Flow != nil {
		return activityTraffic
	}
	switch s.ConnState {
	case "REJ":
		return activityRefuse
	case "S0":
		return activityFail
	case "RSTO", "RSTR", "RSTOS0", "RSTRH":
		return activityReset
	}
	return activityClose
}

// protocolNames are IANA's keywords (lower case, as OCSF wants
// protocol_name) for the protocols sessions carry.
var protocolNames = map[uint8]string{
	1: "icmp", 2: "igmp", 4: "ipv4", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre", 50: "esp", 51: "ah",
	58: "ipv6-icmp", 89: "ospf", 103: "pim", 112: "vrrp", 132: "sctp",
}

// OCSF network_connection_info.direction_id and boundary_id
// (dictionary.json).
const (
	directionUnknown  = 0
	directionInbound  = 1
	directionOutbound = 2
	directionLateral  = 3
	directionOther    = 99

	boundaryLocalhost = 1
	boundaryInternal  = 2
	boundaryExternal  = 3
)

func connection(s *schema.Session) *connectionInfo {
	c := &connectionInfo{ProtocolNum: int(s.Proto), ProtocolName: protocolNames[s.Proto], UID: s.CommunityID}
	switch {
	case s.Orig.IP.Is4() || s.Orig.IP.Is4In6():
		c.ProtocolVerID = 4
	case s.Orig.IP.Is6():
		c.ProtocolVerID = 6
	}
	switch s.Direction {
	case "inbound":
		c.DirectionID, c.Direction = directionInbound, "Inbound"
		c.BoundaryID, c.Boundary = boundaryExternal, "External"
	case "outbound":
		c.DirectionID, c.Direction = directionOutbound, "Outbound"
		c.BoundaryID, c.Boundary = boundaryExternal, "External"
	case "internal":
		c.DirectionID, c.Direction = directionLateral, "Lateral"
		c.BoundaryID, c.Boundary = boundaryInternal, "Internal"
	case "external":
		// Neither end is ours: transit traffic, which OCSF has no
		// direction for.
		c.DirectionID, c.Direction = directionOther, "External"
	default:
		c.DirectionID, c.Direction = directionUnknown, "Unknown"
	}
	if s.Orig.IP.IsLoopback() && s.Resp.IP.IsLoopback() {
		c.BoundaryID, c.Boundary = boundaryLocalhost, "Localhost"
	}
	if s.Flow != nil {
		c.TCPFlags = int(s.Flow.TCPFlags)
	}
	return c
}

// endpoint maps one end of a session. ICMP carries types and codes in
// the ports (docs/schema.md), which are not ports: they are left out.
func endpoint(e *schema.Endpoint, proto uint8) networkEndpoint {
	n := networkEndpoint{MAC: e.MAC, UID: e.Asset, Name: e.AssetName}
	if e.IP.IsValid() {
		n.IP = e.IP.String()
	}
	if proto == 6 || proto == 17 || proto == 132 {
		n.Port = int(e.Port)
	}
	if g := e.Geo; g != nil {
		if g.Country != "" || g.City != "" {
			n.Location = &location{Country: g.Country, City: g.City}
		}
		if g.ASN != 0 || g.ASOrg != "" {
			n.AS = &autonomousSystem{Number: int(g.ASN), Name: g.ASOrg}
		}
	}
	return n
}

// cloudEndpoint adds where a flow record was logged to the end whose
// interface logged it: the sender for egress, the receiver for ingress
// (as AWS maps VPC flow logs to OCSF).
func cloudEndpoint(n *networkEndpoint, f *schema.Flow) {
	n.InstanceUID, n.InterfaceUID, n.SubnetUID, n.VpcUID, n.Zone = f.Instance, f.Interface, f.Subnet, f.VPC, f.Zone
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// session maps a session record to a Network Activity event.
func (e *Encoder) session(s *schema.Session) *networkActivity {
	act := sessionActivity(s)
	ev := &networkActivity{
		Time:         ms(s.End),
		ClassUID:     classNetworkActivity,
		ClassName:    "Network Activity",
		CategoryUID:  categoryNetwork,
		CategoryName: "Network Activity",
		ActivityID:   act,
		ActivityName: networkActivityNames[act],
		TypeUID:      classNetworkActivity*100 + int64(act),
		TypeName:     "Network Activity: " + networkActivityNames[act],
		SeverityID:   severityInformational,
		Severity:     "Informational",
		StartTime:    ms(s.Start),
		EndTime:      ms(s.End),
		Metadata:     e.metadata("sessions", s.Tenant),
		StatusCode:   s.ConnState,
		StatusDetail: s.EndReason,
	}
	if !s.Start.IsZero() && s.End.After(s.Start) {
		ev.Duration = s.End.Sub(s.Start).Milliseconds()
	}
	ev.Metadata.UID = s.UID + "/" + strconv.FormatUint(uint64(s.Seq), 10)
	ev.Metadata.CorrelationUID = s.UID
	seq := int64(s.Seq)
	ev.Metadata.Sequence = &seq
	ev.StatusID, ev.Status = sessionStatus(s, act)

	src, dst := endpoint(&s.Orig, s.Proto), endpoint(&s.Resp, s.Proto)
	if f := s.Flow; f != nil {
		switch f.Direction {
		case "egress":
			cloudEndpoint(&src, f)
		case "ingress":
			cloudEndpoint(&dst, f)
		}
		if f.PktSrc.IsValid() && f.PktSrc != s.Orig.IP {
			src.IntermediateIPs = []string{f.PktSrc.String()}
		}
		if f.PktDst.IsValid() && f.PktDst != s.Resp.IP {
			dst.IntermediateIPs = []string{f.PktDst.String()}
		}
		src.SvcName, dst.SvcName = f.PktSrcService, f.PktDstService
	}
	ev.ConnectionInfo = connection(s)
	ev.Traffic = &networkTraffic{
		BytesOut: s.OrigIPBytes, BytesIn: s.RespIPBytes, Bytes: s.OrigIPBytes + s.RespIPBytes,
		PacketsOut: s.OrigPkts, PacketsIn: s.RespPkts, Packets: s.OrigPkts + s.RespPkts,
	}
	ev.AppName = s.App
	if l7 := s.L7; l7 != nil {
		e.l7(ev, &dst, s, l7)
	}
	ev.SrcEndpoint, ev.DstEndpoint = &src, dst

	// Observables point at the attributes above.
	ev.Observables = make([]observable, 0, 4)
	if src.IP != "" {
		ev.Observables = append(ev.Observables, observable{Name: "src_endpoint.ip", TypeID: observableIP, Type: "IP Address", Value: src.IP})
	}
	if dst.IP != "" {
		ev.Observables = append(ev.Observables, observable{Name: "dst_endpoint.ip", TypeID: observableIP, Type: "IP Address", Value: dst.IP})
	}
	if dst.Hostname != "" {
		ev.Observables = append(ev.Observables, observable{Name: "dst_endpoint.hostname", TypeID: observableHostname, Type: "Hostname", Value: dst.Hostname})
	}
	if ev.URL != nil && ev.URL.URLString != "" {
		ev.Observables = append(ev.Observables, observable{Name: "url.url_string", TypeID: observableURL, Type: "URL String", Value: ev.URL.URLString})
	}
	if e.unmapped {
		ev.Unmapped = sessionUnmapped(s)
		if s.L7 != nil && s.L7.DNS != nil && isHostname(s.L7.DNS.Query) {
			ev.Observables = append(ev.Observables, observable{Name: "unmapped.dns.query", TypeID: observableHostname, Type: "Hostname", Value: s.L7.DNS.Query})
		}
	}
	return ev
}

// sessionStatus is Success or Failure where the record tells: a flow
// record's accept or reject, or how a connection ended.
func sessionStatus(s *schema.Session, act int) (int, string) {
	if s.Flow != nil {
		switch s.Flow.Action {
		case "accept":
			return statusSuccess, "Success"
		case "reject":
			return statusFailure, "Failure"
		}
		return 0, ""
	}
	switch act {
	case activityRefuse, activityFail:
		return statusFailure, "Failure"
	case activityClose:
		return statusSuccess, "Success"
	}
	return 0, ""
}

// OCSF base-event status_id (dictionary.json) and severity_id.
const (
	statusSuccess = 1
	statusFailure = 2

	severityInformational = 1
)

// OCSF observable type_id values (from the dictionary's types:
// hostname_t 1, ip_t 2, url_t 6, file_hash_t 8, resource_uid_t 10,
// port_t 11).
const (
	observableHostname    = 1
	observableIP          = 2
	observableURL         = 6
	observableHash        = 8
	observableResourceUID = 10
	observablePort        = 11
)

// l7 maps the application metadata OCSF's Network Activity has
// attributes for: TLS (tls, ja4_fingerprint_list), HTTP (url) and the
// server's name (dst_endpoint.hostname, from the SNI or HTTP Host).
// DNS, SSH, MQTT and the rest have no attribute in this class (DNS
// Activity, 4003, has them): they go to unmapped.
func (e *Encoder) l7(ev *networkActivity, dst *networkEndpoint, s *schema.Session, l7 *schema.L7) {
	if t := l7.TLS; t != nil {
		if v := tlsVersion(t.Version); v != "" {
			ev.TLS = &tlsInfo{Version: v, SNI: t.SNI, Cipher: t.Cipher}
			if t.Cert != nil {
				for _, n := range t.Cert.SANs {
					typ := "DNS"
					if _, err := netip.ParseAddr(n); err == nil {
						typ = "IP Address"
					}
					ev.TLS.SANs = append(ev.TLS.SANs, san{Name: n, Type: typ})
				}
			}
		}
		if t.JA4 != "" {
			ev.JA4 = []ja4Fingerprint{{TypeID: 1, Type: "JA4", Value: t.JA4}}
		}
		if isHostname(t.SNI) {
			dst.Hostname = t.SNI
		}
	}
	if h := l7.HTTP; h != nil {
		host := h.Host
		if hh, _, ok := strings.Cut(host, ":"); ok && !strings.Contains(hh, "]") && strings.Count(host, ":") == 1 {
			host = hh // example.com:8080
		}
		path, query, _ := strings.Cut(h.URI, "?")
		u := &urlInfo{Scheme: "http", Path: path, QueryString: query}
		if isHostname(host) {
			u.Hostname = host
			u.URLString = "http://" + h.Host + h.URI
			if dst.Hostname == "" {
				dst.Hostname = host
			}
		}
		if s.Proto == 6 {
			u.Port = int(s.Resp.Port)
		}
		if u.Path != "" || u.URLString != "" {
			ev.URL = u
		}
	}
}

// tlsVersion writes Osprey's "TLSv12" as "1.2"; SSL versions and
// anything else stay as they are.
func tlsVersion(v string) string {
	if d, ok := strings.CutPrefix(v, "TLSv1"); ok && len(d) >= 1 && d[0] >= '0' && d[0] <= '9' {
		return "1." + d
	}
	return v
}

// isHostname says whether s is a hostname_t as OCSF's dictionary
// defines it (dot-separated labels of letters, digits and inner
// hyphens).
func isHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// sessionUnmapped keeps what Osprey knows of a session that Network
// Activity has no attribute for, under Osprey's own names.
func sessionUnmapped(s *schema.Session) map[string]any {
	u := map[string]any{"source": s.Source, "final": s.Final}
	if s.Sensor != "" {
		u["sensor"] = s.Sensor
	}
	if s.History != "" {
		u["history"] = s.History
	}
	if s.OrigBytes != 0 || s.RespBytes != 0 {
		u["orig_bytes"], u["resp_bytes"] = s.OrigBytes, s.RespBytes
	}
	if s.MissedBytes != 0 {
		u["missed_bytes"] = s.MissedBytes
	}
	if len(s.VLANs) > 0 {
		u["vlans"] = s.VLANs
	}
	if len(s.TunnelParents) > 0 {
		u["tunnel_parents"] = s.TunnelParents
	}
	for name, ep := range map[string]*schema.Endpoint{"orig": &s.Orig, "resp": &s.Resp} {
		m := map[string]any{}
		if len(ep.Tags) > 0 {
			m["tags"] = ep.Tags
		}
		if ep.Segment != "" {
			m["segment"] = ep.Segment
		}
		if ep.Account != "" {
			m["account"] = ep.Account
		}
		if len(ep.Intel) > 0 {
			m["intel"] = ep.Intel
		}
		if len(m) > 0 {
			u[name] = m
		}
	}
	if len(s.Intel) > 0 {
		u["intel"] = s.Intel
	}
	if f := s.Flow; f != nil {
		flow := map[string]any{}
		for k, v := range map[string]string{"account": f.Account, "region": f.Region, "rule": f.Rule, "action": f.Action, "status": f.Status, "direction": f.Direction} {
			if v != "" {
				flow[k] = v
			}
		}
		if f.Exporter.IsValid() {
			flow["exporter"] = f.Exporter.String()
		}
		if f.SamplingRate > 1 {
			flow["sampling_rate"] = f.SamplingRate
		}
		if len(flow) > 0 {
			u["flow"] = flow
		}
	}
	if l7 := s.L7; l7 != nil {
		if l7.DNS != nil {
			u["dns"] = l7.DNS
		}
		if l7.HTTP != nil {
			u["http"] = l7.HTTP
		}
		if l7.SSH != nil {
			u["ssh"] = l7.SSH
		}
		if l7.MQTT != nil {
			u["mqtt"] = l7.MQTT
		}
		if l7.Industrial != nil {
			u["industrial"] = l7.Industrial
		}
		if l7.TLS != nil && l7.TLS.Cert != nil {
			// OCSF's certificate object requires the serial number,
			// which Osprey does not keep.
			u["tls_cert"] = l7.TLS.Cert
		}
	}
	return u
}
