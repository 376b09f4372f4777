package segment

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/osprey-ndr/osprey/internal/store"
)

// PolicyName is the name of the proposed policy.
const PolicyName = "segmentation-recommended"

// DenyRule is the proposed policy's last rule: cross-segment traffic
// that none of its allow rules names.
const DenyRule = "unobserved-cross-segment"

// denyWhen selects what DenyRule reports: both ends in a segment, not the
// same one, and answered as Recommend counts it — so that the history
// the policy was drawn from holds no violation, its unanswered attempts
// included (they did not get through).
var denyWhen = `src.segment != "" && dst.segment != "" && src.segment != dst.segment && ` +
	`!(proto == "tcp" && conn_state in ["` + strings.Join(Unanswered, `", "`) + `"]) && action != "reject"`

type policyFile struct {
	Version     int          `yaml:"version"`
	Name        string       `yaml:"name"`
	Description string       `yaml:"description"`
	Rules       []policyRule `yaml:"rules"`
}

type policyRule struct {
	Name        string      `yaml:"name"`
	Severity    string      `yaml:"severity,omitempty"`
	Description string      `yaml:"description,omitempty"`
	Allow       *policyBody `yaml:"allow,omitempty,flow"`
	When        string      `yaml:"when,omitempty"`
}

type policyBody struct {
	Proto string     `yaml:"proto,omitempty"`
	From  policySide `yaml:"from"`
	To    policySide `yaml:"to"`
	When  string     `yaml:"when,omitempty"`
}

type policySide struct {
	Segment string `yaml:"segment"`
	Port    []any  `yaml:"port,omitempty"` // numbers and "low-high" ranges
}

// Policy writes the policy YAML (docs/policies.md) that allows exactly
// the pairs' protocols and ports: one allow rule per pair and protocol,
// then a rule reporting any other answered traffic between two segments.
// Traffic inside a segment, and sessions an end of which has no segment,
// are left alone.
func Policy(pairs []Pair, sc store.Scope) (string, error) {
	f := policyFile{Version: 1, Name: PolicyName,
		Description: "allows the cross-segment traffic observed " + describe(sc.Range) + " and reports any other"}
	names := map[string]bool{}
	unique := func(base string) string {
		name := base
		for i := 2; names[name]; i++ {
			name = base + "-" + strconv.Itoa(i)
		}
		names[name] = true
		return name
	}
	for _, p := range pairs {
		var order []string
		byProto := map[string][]Port{}
		for _, port := range p.Ports {
			if byProto[port.Proto] == nil {
				order = append(order, port.Proto)
			}
			byProto[port.Proto] = append(byProto[port.Proto], port)
		}
		for _, proto := range order {
			ports := byProto[proto]
			var sessions, bytes uint64
			for _, port := range ports {
				sessions, bytes = sessions+port.Sessions, bytes+port.Bytes
			}
			body := &policyBody{From: policySide{Segment: p.Src}, To: policySide{Segment: p.Dst}}
			switch proto {
			case "tcp", "udp":
				body.Proto, body.To.Port = proto, portList(ports)
			case "icmp":
				body.Proto = proto
			default:
				body.When = "proto == " + strconv.Quote(proto)
			}
			f.Rules = append(f.Rules, policyRule{
				Name:        unique(slug(p.Src) + "-to-" + slug(p.Dst) + "-" + slug(proto)),
				Description: fmt.Sprintf("observed: %d sessions, %d bytes", sessions, bytes),
				Allow:       body,
			})
		}
	}
	f.Rules = append(f.Rules, policyRule{Name: unique(DenyRule), Severity: "medium",
		Description: "traffic between two segments that the allow rules above do not name", When: denyWhen})
	var b strings.Builder
	b.WriteString("# Proposed by Osprey from observed traffic (docs/segmentation.md): review before use.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return "", fmt.Errorf("segmentation policy: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("segmentation policy: %w", err)
	}
	return b.String(), nil
}

// portList writes sorted ports, runs of three or more as ranges.
func portList(ports []Port) []any {
	ports = slices.SortedFunc(slices.Values(ports), func(a, b Port) int { return cmp.Compare(a.Port, b.Port) })
	var out []any
	for i := 0; i < len(ports); {
		j := i
		for j+1 < len(ports) && ports[j+1].Port == ports[j].Port+1 {
			j++
		}
		if j-i >= 2 {
			out = append(out, fmt.Sprintf("%d-%d", ports[i].Port, ports[j].Port))
		} else {
			for k := i; k <= j; k++ {
				out = append(out, int(ports[k].Port))
			}
		}
		i = j + 1
	}
	return out
}

var unsafe = regexp.MustCompile(`[^a-zA-Z0-9._]+`)

// slug makes a segment name readable in a rule name.
func slug(s string) string {
	s = strings.Trim(unsafe.ReplaceAllString(s, "-"), "-")
	if s == "" {
		return "x"
	}
	return s
}

func describe(r store.Range) string {
	f := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	switch {
	case r.Since.IsZero() && r.Until.IsZero():
		return "in the whole history"
	case r.Until.IsZero():
		return "since " + f(r.Since)
	case r.Since.IsZero():
		return "until " + f(r.Until)
	}
	return "from " + f(r.Since) + " until " + f(r.Until)
}
