package segment

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/filter"
)

// Unanswered are the TCP states of a connection the responder never
// accepted: no SYN-ACK (S0, RSTOS0, SH), a refusal (REJ), or a responder
// seen without the originator's SYN (RSTRH, SHR). Zeek's conn_state
// (docs/schema.md).
var Unanswered = []string{"S0", "REJ", "RSTOS0", "RSTRH", "SH", "SHR"}

// answered selects needed traffic in the filter language: sessions that
// neither stayed unanswered over TCP nor were rejected by a flow log's
// firewall. One-way UDP (syslog, NetFlow) is S0 too but is kept: it
// may well be needed, and min_sessions drops one-off probes.
var answered = mustParse(`not (proto = tcp and conn_state in (` + strings.Join(Unanswered, ", ") + `)) and action != "reject"`)

func mustParse(s string) filter.Expr {
	e, err := filter.Parse(s)
	if err != nil {
		panic(err)
	}
	return e
}

// Port is one destination port (0 for protocols without ports: ICMP and
// other IP protocols) of a segment pair.
type Port struct {
	Proto    string `json:"proto"`
	Port     uint16 `json:"port"`
	Sessions uint64 `json:"sessions"`
	Bytes    uint64 `json:"bytes"`
}

// Pair is the needed traffic from segment Src (originators) to Dst
// (responders).
type Pair struct {
	Src      string `json:"src"`
	Dst      string `json:"dst"`
	Ports    []Port `json:"ports"`
	Sessions uint64 `json:"sessions"`
	Bytes    uint64 `json:"bytes"`
}

// Recommendations are the pairs, most sessions first, and the policy
// (docs/policies.md) that allows exactly them between segments.
type Recommendations struct {
	Items  []Pair `json:"items"`
	Policy string `json:"policy"`
}

// maxGroups bounds the distinct (pair, protocol, port) read from the
// store; beyond it the answer would be partial, and is refused.
const maxGroups = 100_000

// Recommend reads the scope's answered cross-segment traffic and keeps,
// per pair, the protocols and ports with at least minSessions sessions
// (a flow that began before the range counts once).
func Recommend(ctx context.Context, st Store, sc store.Scope, minSessions int) (Recommendations, error) {
	if minSessions < 1 {
		return Recommendations{}, fmt.Errorf("min_sessions: must be at least 1, got %d", minSessions)
	}
	rows, err := st.Group(ctx, store.GroupQuery{Scope: sc, Filter: answered, By: store.Sessions, Limit: maxGroups,
		Dimensions: []string{"src.segment", "dst.segment", "proto", "dst.port"}})
	if err != nil {
		return Recommendations{}, fmt.Errorf("segmentation recommendations: %w", err)
	}
	if len(rows) == maxGroups {
		return Recommendations{}, fmt.Errorf("segmentation recommendations: over %d distinct segment pairs and ports in the range: narrow it", maxGroups)
	}
	type pk struct{ src, dst string }
	type portKey struct {
		proto string
		port  uint16
	}
	pairs := map[pk]map[portKey]*Port{}
	for _, r := range rows {
		src, dst, proto := r.Keys[0], r.Keys[1], r.Keys[2]
		if src == "" || dst == "" || src == dst {
			continue
		}
		var port uint16
		if proto == "tcp" || proto == "udp" {
			n, err := strconv.ParseUint(r.Keys[3], 10, 16)
			if err != nil {
				return Recommendations{}, fmt.Errorf("segmentation recommendations: port %q: %w", r.Keys[3], err)
			}
			port = uint16(n)
		}
		ports := pairs[pk{src, dst}]
		if ports == nil {
			ports = map[portKey]*Port{}
			pairs[pk{src, dst}] = ports
		}
		p := ports[portKey{proto, port}]
		if p == nil {
			p = &Port{Proto: proto, Port: port}
			ports[portKey{proto, port}] = p
		}
		// Every row holds at least one record in the range: a flow whose
		// first record came earlier still counts once.
		p.Sessions += max(r.Sessions, 1)
		p.Bytes += r.Bytes
	}
	res := Recommendations{Items: []Pair{}}
	for k, ports := range pairs {
		pair := Pair{Src: k.src, Dst: k.dst}
		for _, p := range ports {
			if p.Sessions < uint64(minSessions) {
				continue
			}
			pair.Ports = append(pair.Ports, *p)
			pair.Sessions += p.Sessions
			pair.Bytes += p.Bytes
		}
		if len(pair.Ports) == 0 {
			continue
		}
		slices.SortFunc(pair.Ports, func(a, b Port) int {
			return cmp.Or(cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Port, b.Port))
		})
		res.Items = append(res.Items, pair)
	}
	slices.SortFunc(res.Items, func(a, b Pair) int {
		return cmp.Or(cmp.Compare(b.Sessions, a.Sessions), cmp.Compare(a.Src, b.Src), cmp.Compare(a.Dst, b.Dst))
	})
	res.Policy, err = Policy(res.Items, sc)
	return res, err
}
