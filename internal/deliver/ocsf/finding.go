package ocsf

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Detection Finding (class 2004, category 2 Findings) and the finding
// activities (events/findings/finding.json).
const (
	classDetectionFinding = 2004
	categoryFindings      = 2

	activityCreate = 1
	activityUpdate = 2
	activityClosed = 3
)

var findingActivityNames = map[int]string{activityCreate: "Create", activityUpdate: "Update", activityClosed: "Close"}

// severities maps Osprey's severities to OCSF severity_id and its
// caption.
var severities = map[string]struct {
	id   int
	name string
}{
	"info": {1, "Informational"}, "low": {2, "Low"}, "medium": {3, "Medium"}, "high": {4, "High"}, "critical": {5, "Critical"},
}

// Finding status_id (events/findings/finding.json, 1.3.0).
const (
	findingNew        = 1
	findingInProgress = 2
	findingSuppressed = 3
	findingResolved   = 4
)

// findingEvidence is the part of docs/findings.md's evidence object the
// mapping reads.
type findingEvidence struct {
	Summary         string                     `json:"summary"`
	FirstSeen       time.Time                  `json:"first_seen"`
	LastSeen        time.Time                  `json:"last_seen"`
	Count           int                        `json:"count"`
	Sessions        []string                   `json:"sessions"`
	SessionsOmitted int                        `json:"sessions_omitted"`
	Values          map[string]json.RawMessage `json:"values"`
	Verdict         string                     `json:"verdict"`
	Note            string                     `json:"note"`
	Suppression     string                     `json:"suppression"`
	Evicted         bool                       `json:"evicted"`
}

// findingState gives the activity, status and status detail of a
// finding's state. The first write of an active finding (one report) is
// its creation; later writes are updates; the final states close it.
func findingState(f *schema.Finding, ev *findingEvidence) (act, status int, statusName, detail string) {
	switch f.State {
	case "active":
		act, status, statusName = activityUpdate, findingNew, "New"
		if ev.Count <= 1 {
			act = activityCreate
		}
	case "acknowledged":
		act, status, statusName = activityUpdate, findingInProgress, "In Progress"
		detail = "acknowledged"
		if ev.Verdict != "" {
			detail = ev.Verdict
		}
	case "false_positive", "benign_positive":
		act, status, statusName, detail = activityClosed, findingSuppressed, "Suppressed", f.State
	case "cleared":
		// OCSF's nearest status: the finding is over. status_detail
		// says it cleared (no report for clear_after) rather than
		// being remediated.
		act, status, statusName, detail = activityClosed, findingResolved, "Resolved", "cleared"
		if ev.Evicted {
			detail = "cleared (evicted)"
		}
	default:
		return 0, 0, "", ""
	}
	return act, status, statusName, detail
}

// analyticTypes says how each detector finds what it finds (analytic
// type_id: 1 Rule, 2 Behavioral, 3 Statistical); others are Unknown.
var analyticTypes = map[string]int{
	"policy": 1, "threat-intel": 1, "weak-tls": 1, "cleartext-management": 1, "device-certificate-shared": 1,
	"conflicting-client-ids": 1, "cleartext-credentials": 1,
	"profile":         3,
	"horizontal-scan": 2, "vertical-scan": 2, "fan-out": 2, "brute-force": 2, "new-destination": 2,
	"new-listening-port": 2, "dns-tunnel": 2, "beaconing": 2, "exfiltration": 2,
}

var analyticTypeNames = map[int]string{0: "Unknown", 1: "Rule", 2: "Behavioral", 3: "Statistical"}

// finding maps a finding to a Detection Finding event.
func (e *Encoder) finding(f *schema.Finding) (*detectionFinding, error) {
	var ev findingEvidence
	if len(f.Evidence) > 0 {
		if err := json.Unmarshal(f.Evidence, &ev); err != nil {
			return nil, fmt.Errorf("finding %s: evidence: %w", f.ID, err)
		}
	}
	act, status, statusName, detail := findingState(f, &ev)
	if act == 0 {
		return nil, fmt.Errorf("finding %s: unknown state %q", f.ID, f.State)
	}
	sev, ok := severities[f.Severity]
	if !ok {
		return nil, fmt.Errorf("finding %s: unknown severity %q", f.ID, f.Severity)
	}
	first, last := ev.FirstSeen, ev.LastSeen
	if first.IsZero() {
		first = f.Time
	}
	if last.IsZero() || last.Before(first) {
		last = first
	}
	title := ev.Summary
	if title == "" {
		title = f.Rule
	}
	out := &detectionFinding{
		// The event is this write of the finding: the time of its
		// latest report.
		Time:         ms(last),
		ClassUID:     classDetectionFinding,
		ClassName:    "Detection Finding",
		CategoryUID:  categoryFindings,
		CategoryName: "Findings",
		ActivityID:   act,
		ActivityName: findingActivityNames[act],
		TypeUID:      classDetectionFinding*100 + int64(act),
		TypeName:     "Detection Finding: " + findingActivityNames[act],
		SeverityID:   sev.id,
		Severity:     sev.name,
		StartTime:    ms(first),
		EndTime:      ms(last),
		Count:        ev.Count,
		Message:      title,
		StatusID:     status,
		Status:       statusName,
		StatusDetail: detail,
		Comment:      ev.Note,
		Metadata:     e.metadata("findings", f.Tenant),
		FindingInfo: findingInfo{
			UID:           f.ID,
			Title:         title,
			Desc:          fmt.Sprintf("%s: rule %s of detector %s", sev.name, f.Rule, f.Detector),
			Types:         []string{f.Detector},
			CreatedTime:   ms(f.Time),
			FirstSeenTime: ms(first),
			LastSeenTime:  ms(last),
			Analytic: analytic{
				UID: f.Detector + "/" + f.Rule, Name: f.Rule,
				TypeID: analyticTypes[f.Detector], Type: analyticTypeNames[analyticTypes[f.Detector]],
			},
		},
	}
	// One event per write of the finding: its id, state and count tell
	// the writes apart.
	out.Metadata.UID = f.ID + "/" + f.State + "/" + strconv.Itoa(ev.Count)
	out.Metadata.CorrelationUID = f.DedupeKey
	if a, ok := attackOf(f.Technique); ok {
		out.FindingInfo.Attacks = []attack{a}
	}
	if c, ok := confidence(ev.Values); ok {
		out.ConfidenceScore = &c
		switch {
		case c < 34:
			out.ConfidenceID, out.Confidence = 1, "Low"
		case c < 67:
			out.ConfidenceID, out.Confidence = 2, "Medium"
		default:
			out.ConfidenceID, out.Confidence = 3, "High"
		}
	}
	data, err := json.Marshal(struct {
		Sessions        []string                   `json:"sessions,omitempty"`
		SessionsOmitted int                        `json:"sessions_omitted,omitempty"`
		Count           int                        `json:"count,omitempty"`
		Values          map[string]json.RawMessage `json:"values,omitempty"`
	}{ev.Sessions, ev.SessionsOmitted, ev.Count, ev.Values})
	if err != nil {
		return nil, fmt.Errorf("finding %s: %w", f.ID, err)
	}
	if string(data) != "{}" {
		out.Evidences = []evidence{{Data: data}}
	}
	e.entities(out, f.Entities)
	if e.unmapped {
		u := map[string]any{"detector": f.Detector, "rule": f.Rule, "state": f.State}
		if ev.Verdict != "" {
			u["verdict"] = ev.Verdict
		}
		if ev.Suppression != "" {
			u["suppression"] = ev.Suppression
		}
		if ev.Evicted {
			u["evicted"] = true
		}
		out.Unmapped = u
	}
	return out, nil
}

// entityTypes names the resource type of an entity prefix and the
// observable type of its value, 0 for none.
var entityTypes = map[string]struct {
	resource   string
	observable int
	name       string
}{
	"ip":     {"IP Address", observableIP, "IP Address"},
	"domain": {"Domain", observableHostname, "Hostname"},
	"port":   {"Port", observablePort, "Port"},
	"asset":  {"Asset", observableResourceUID, "Resource UID"},
	"thing":  {"IoT Thing", observableResourceUID, "Resource UID"},
	"cert":   {"Certificate", observableHash, "Hash"},
}

// entities lists the finding's entities as the resources it is about,
// and their values as observables. Entities are sorted by the detection
// engine, so which end of a conversation an address was is not known
// here: they are resources, not src_endpoint and dst_endpoint.
func (e *Encoder) entities(out *detectionFinding, entities []string) {
	for _, ent := range entities {
		prefix, value, ok := strings.Cut(ent, ":")
		if !ok || value == "" {
			continue
		}
		t, known := entityTypes[prefix]
		typ := t.resource
		if !known {
			typ = prefix // tag, mqtt_client, aws, …: Osprey's own entity types
		}
		i := len(out.Resources)
		out.Resources = append(out.Resources, resource{UID: value, Type: typ})
		if known && (t.observable != observableHostname || isHostname(value)) {
			out.Observables = append(out.Observables, observable{
				Name: fmt.Sprintf("resources[%d].uid", i), TypeID: t.observable, Type: t.name, Value: value,
			})
		}
	}
}

// confidence reads values.confidence, given as 0–1 or 0–100, as a
// score from 0 to 100.
func confidence(values map[string]json.RawMessage) (int, bool) {
	raw, ok := values["confidence"]
	if !ok {
		return 0, false
	}
	var c float64
	if err := json.Unmarshal(raw, &c); err != nil || math.IsNaN(c) || c < 0 || c > 100 {
		return 0, false
	}
	if c <= 1 {
		c *= 100
	}
	return int(math.Round(c)), true
}

// attackOf maps a MITRE ATT&CK technique id (T1046, T1071.004) to an
// OCSF attack: the technique, the sub-technique when there is one, and
// the tactic and names for the techniques Osprey's detectors report.
func attackOf(id string) (attack, bool) {
	if id == "" {
		return attack{}, false
	}
	parent, _, sub := strings.Cut(id, ".")
	a := attack{Technique: &technique{UID: parent}}
	if k, ok := attackNames[parent]; ok {
		a.Technique.Name = k.name
		a.Tactic = &technique{UID: k.tactic, Name: tacticNames[k.tactic]}
	}
	if sub {
		a.SubTechnique = &technique{UID: id, Name: attackNames[id].name}
	}
	return a, true
}

// attackNames are the techniques Osprey's detectors and profiles
// report, with the tactic each serves there (ATT&CK Enterprise v15).
// A hand-written table: the ATT&CK STIX bundle is 40 MB for a dozen
// names; other ids are mapped without names.
var attackNames = map[string]struct{ name, tactic string }{
	"T1046":     {"Network Service Discovery", "TA0007"},
	"T1110":     {"Brute Force", "TA0006"},
	"T1552":     {"Unsecured Credentials", "TA0006"},
	"T1048":     {"Exfiltration Over Alternative Protocol", "TA0010"},
	"T1071":     {"Application Layer Protocol", "TA0011"},
	"T1071.004": {"DNS", "TA0011"},
	"T1021":     {"Remote Services", "TA0008"},
	"T1021.004": {"SSH", "TA0008"},
	"T1190":     {"Exploit Public-Facing Application", "TA0001"},
	"T1498":     {"Network Denial of Service", "TA0040"},
	"T1557":     {"Adversary-in-the-Middle", "TA0006"},
	"T1040":     {"Network Sniffing", "TA0006"},
}

var tacticNames = map[string]string{
	"TA0001": "Initial Access", "TA0006": "Credential Access", "TA0007": "Discovery", "TA0008": "Lateral Movement",
	"TA0010": "Exfiltration", "TA0011": "Command and Control", "TA0040": "Impact",
}
