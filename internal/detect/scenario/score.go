package scenario

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// Label is one injected incident: what a correct finding is (detector,
// one of the rules), what it must name (every one of Entities) and
// when it happened.
type Label struct {
	Kind     string
	Detector string
	Rules    []string
	Entities []string
	Start    time.Time
	End      time.Time
	// Strength is "strong" (well above the default thresholds) or
	// "modest" (a little above them).
	Strength string
	// Note says in a few words what was injected.
	Note string
	// Posture marks a standing weakness of the benign fleet that an
	// audit rightly reports (cameras serving ONVIF over plain HTTP):
	// neither an incident to detect nor a false finding.
	Posture bool
}

// Expect is the finding a kind of incident should raise.
type Expect struct {
	Detector string
	// Rules the finding may carry; empty accepts the label's own (policy
	// rules are named by the policy file).
	Rules []string
}

// Kinds maps incident kinds to the findings they should raise. Other
// detectors' kinds (Device Defender profiles, audits) are added here
// with labels of their own, and Score handles them alike.
var Kinds = map[string]Expect{
	"horizontal_scan":       {"horizontal-scan", []string{"horizontal-scan"}},
	"vertical_scan":         {"vertical-scan", []string{"vertical-scan"}},
	"fan_out":               {"fan-out", []string{"fan-out"}},
	"brute_force":           {"brute-force", []string{"brute-force"}},
	"beaconing":             {"beaconing", []string{"beaconing"}},
	"exfiltration":          {"exfiltration", []string{"exfiltration"}},
	"dns_tunnel":            {"dns-tunnel", []string{"dns-tunnel"}},
	"new_listening_port":    {"new-listening-port", []string{"new-listening-port"}},
	"cleartext_credentials": {"cleartext-credentials", []string{"cleartext-credentials"}},
	"allowlist":             {"new-destination", []string{"new-destination"}},
	"threat_intel":          {"threat-intel", []string{"threat-intel"}},
	"policy":                {"policy", nil},
	// Device Defender profiles (ProfilesJSON), by behaviour.
	"profile_listening_port": {"profile", []string{"Cameras/Listening-TCP-ports"}},
	"profile_threshold":      {"profile", []string{"Camera-traffic/Bytes-out"}},
	"profile_statistical":    {"profile", []string{"Fleet-agents/Established-TCP"}},
	"profile_ml":             {"profile", []string{"Fleet-agents/Messages-sent-ML"}},
	// Audits; weak_tls and cleartext_management labels name their rule.
	"device_certificate_shared": {"device-certificate-shared", []string{"DEVICE_CERTIFICATE_SHARED_CHECK"}},
	"conflicting_client_ids":    {"conflicting-client-ids", []string{"CONFLICTING_CLIENT_IDS_CHECK"}},
	"weak_tls":                  {"weak-tls", nil},
	"cleartext_management":      {"cleartext-management", nil},
}

// NewLabel fills the detector and rules of kind from Kinds; rules are
// the policy rules for kind "policy".
func NewLabel(kind string, start, end time.Time, entities []string, rules ...string) Label {
	e, ok := Kinds[kind]
	if !ok {
		panic("scenario: unknown incident kind " + kind)
	}
	if len(e.Rules) > 0 {
		rules = e.Rules
	}
	return Label{Kind: kind, Detector: e.Detector, Rules: rules, Entities: entities, Start: start, End: end}
}

// Slack widens a label's window when matching: windows close, and
// scores are computed, a little after the traffic that fills them.
const Slack = 15 * time.Minute

// Report is how the findings of a run compare with the labels.
type Report struct {
	Kinds       []KindScore
	Labels      int
	Detected    int
	Findings    int // distinct findings (ids), not reports
	True        int // findings that match a label
	Related     int // findings of another kind about an incident's hosts during it
	Posture     int // findings of the fleet's standing weaknesses (Label.Posture)
	False       int // the rest
	DeviceHours float64
	Missed      []Label
	FalseList   []schema.Finding
}

// KindScore is one kind's line of the report. False counts the
// unmatched findings of the kind's detector.
type KindScore struct {
	Kind               string
	Injected, Detected int
	False              int
}

// Recall is the share of the kind's incidents detected.
func (k KindScore) Recall() float64 { return ratio(k.Detected, k.Injected) }

// Recall is the share of all incidents detected.
func (r Report) Recall() float64 { return ratio(r.Detected, r.Labels) }

// FalsePer100DeviceHours is the false-finding rate.
func (r Report) FalsePer100DeviceHours() float64 {
	if r.DeviceHours == 0 {
		return 0
	}
	return 100 * float64(r.False) / r.DeviceHours
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Score matches findings to labels. A finding detects a label when it
// comes from the label's detector and one of its rules, its first to
// last report overlaps the label's window widened by Slack (a report
// folded into an older finding still detects), and it names every
// entity of the label. A finding that detects no label but was first
// raised during an incident and names one of its hosts (ip: or asset:)
// is related: another view of the same incident, neither a detection
// nor a false finding. The rest are false findings. Findings are counted
// once per id, whatever their updates.
func Score(labels []Label, findings []schema.Finding, deviceHours float64) Report {
	var posture []Label
	labels = slices.DeleteFunc(slices.Clone(labels), func(l Label) bool {
		if l.Posture {
			posture = append(posture, l)
		}
		return l.Posture
	})
	r := Report{Labels: len(labels), DeviceHours: deviceHours}
	byKind := map[string]*KindScore{}
	kind := func(name string) *KindScore {
		if byKind[name] == nil {
			byKind[name] = &KindScore{Kind: name}
		}
		return byKind[name]
	}
	for _, l := range labels {
		kind(l.Kind).Injected++
	}
	detected := make([]bool, len(labels))
	for _, f := range lastStates(findings) {
		r.Findings++
		first, last := span(f)
		matched, related := false, false
		for i, l := range labels {
			if first.After(l.End.Add(Slack)) || last.Before(l.Start.Add(-Slack)) {
				continue
			}
			if f.Detector == l.Detector && slices.Contains(l.Rules, f.Rule) && containsAll(f.Entities, l.Entities) {
				matched, detected[i] = true, true
			} else if !first.Before(l.Start.Add(-Slack)) && sharesHost(f.Entities, l.Entities) {
				related = true
			}
		}
		isPosture := slices.ContainsFunc(posture, func(l Label) bool {
			return f.Detector == l.Detector && slices.Contains(l.Rules, f.Rule) && containsAll(f.Entities, l.Entities)
		})
		switch {
		case matched:
			r.True++
		case isPosture:
			r.Posture++
		case related:
			r.Related++
		default:
			r.False++
			r.FalseList = append(r.FalseList, f)
			kind(kindOf(f)).False++
		}
	}
	for i, l := range labels {
		if detected[i] {
			r.Detected++
			kind(l.Kind).Detected++
		} else {
			r.Missed = append(r.Missed, l)
		}
	}
	for _, k := range byKind {
		r.Kinds = append(r.Kinds, *k)
	}
	slices.SortFunc(r.Kinds, func(a, b KindScore) int { return strings.Compare(a.Kind, b.Kind) })
	return r
}

// lastStates keeps the last state written of each finding id.
func lastStates(fs []schema.Finding) []schema.Finding {
	idx := map[string]int{}
	var out []schema.Finding
	for _, f := range fs {
		if i, ok := idx[f.ID]; ok {
			out[i] = f
			continue
		}
		idx[f.ID] = len(out)
		out = append(out, f)
	}
	return out
}

// span is a finding's first and last report, from its evidence.
func span(f schema.Finding) (time.Time, time.Time) {
	var ev detect.Evidence
	if json.Unmarshal(f.Evidence, &ev) != nil || ev.LastSeen.IsZero() {
		return f.Time, f.Time
	}
	return ev.FirstSeen, ev.LastSeen
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func sharesHost(have, label []string) bool {
	for _, e := range label {
		if (strings.HasPrefix(e, "ip:") || strings.HasPrefix(e, "asset:")) && slices.Contains(have, e) {
			return true
		}
	}
	return false
}

// kindOf names the kind whose detector raised f, for the false-finding
// column; a detector no kind expects is named as itself.
func kindOf(f schema.Finding) string {
	for name, e := range Kinds {
		if e.Detector == f.Detector && (len(e.Rules) == 0 || slices.Contains(e.Rules, f.Rule)) {
			return name
		}
	}
	return f.Detector
}

// String is the report as a table, then the misses and false findings.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-26s %8s %8s %7s %6s\n", "kind", "injected", "detected", "recall", "false")
	for _, k := range r.Kinds {
		fmt.Fprintf(&b, "%-26s %8d %8d %6.0f%% %6d\n", k.Kind, k.Injected, k.Detected, 100*k.Recall(), k.False)
	}
	fmt.Fprintf(&b, "%-26s %8d %8d %6.0f%% %6d\n", "all", r.Labels, r.Detected, 100*r.Recall(), r.False)
	fmt.Fprintf(&b, "findings %d: %d true, %d related, %d posture, %d false over %.0f device-hours = %.2f false per 100 device-hours\n",
		r.Findings, r.True, r.Related, r.Posture, r.False, r.DeviceHours, r.FalsePer100DeviceHours())
	for _, l := range r.Missed {
		fmt.Fprintf(&b, "missed %s (%s) %s %v–%v: %s\n", l.Kind, l.Strength, strings.Join(l.Entities, " "),
			l.Start.Format("Jan 2 15:04"), l.End.Format("15:04"), l.Note)
	}
	for _, f := range r.FalseList {
		var ev detect.Evidence
		_ = json.Unmarshal(f.Evidence, &ev)
		fmt.Fprintf(&b, "false %s/%s %s %s: %s\n", f.Detector, f.Rule, f.Time.Format("Jan 2 15:04"), strings.Join(f.Entities, " "), ev.Summary)
	}
	return b.String()
}
