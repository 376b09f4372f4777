package policy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// kind is what a rule asks of the sessions its scope selects.
type kind uint8

const (
	kindDeny      kind = iota + 1 // deny: the match is a violation; also a rule with only `when`
	kindAllow                     // allow: the match is an exception to the policy's other rules
	kindOnlyFrom                  // only_from: the source must match
	kindOnlyTo                    // only_to: the destination must match
	kindKnownTags                 // require_known_tags: both ends must carry a known tag
)

// rule is one compiled rule of a policy.
type rule struct {
	name, description, technique string
	severity                     detect.Severity
	kind                         kind
	// scope is the rule's own from/to/proto/app/direction/when: the
	// sessions it looks at. match is the body of deny and allow.
	scope, match match
	only         *side // only_from, only_to
	// knownTags are the tags require_known_tags accepts; nil accepts any.
	knownTags []string
}

// selects reports whether a deny or allow rule matches the session; for
// the other kinds, whether the session breaks the rule.
func (r *rule) selects(s *schema.Session, act *activation) bool {
	if !r.scope.matches(s, act) {
		return false
	}
	switch r.kind {
	case kindOnlyFrom:
		return !r.only.matches(&s.Orig, s)
	case kindOnlyTo:
		return !r.only.matches(&s.Resp, s)
	case kindKnownTags:
		return !r.known(&s.Orig) || !r.known(&s.Resp)
	}
	return r.match.matches(s, act)
}

func (r *rule) known(e *schema.Endpoint) bool {
	if r.knownTags == nil {
		return len(e.Tags) > 0
	}
	return anyTag(e.Tags, r.knownTags)
}

// report describes the violation of r by s. The dedupe key is the policy,
// the rule and the pair of ends (asset when known, else address): one
// finding per source/destination pair however many sessions and ports
// repeat it, so that a scan across a denied path is one finding per
// target rather than one per port probed.
func (r *rule) report(p *Policy, s *schema.Session) detect.Report {
	src, dst := endID(&s.Orig), endID(&s.Resp)
	entities := make([]string, 0, 5)
	entities = append(entities, "ip:"+s.Orig.IP.String())
	if s.Orig.Asset != "" {
		entities = append(entities, src)
	}
	entities = append(entities, "ip:"+s.Resp.IP.String())
	if s.Resp.Asset != "" {
		entities = append(entities, dst)
	}
	key := "policy/" + p.Name + "/" + r.name + "|" + src + "|" + dst
	service := ""
	if s.Transport == "tcp" || s.Transport == "udp" {
		port := strconv.Itoa(int(s.Resp.Port))
		entities = append(entities, "port:"+port)
		service = ":" + port + "/" + s.Transport
	}
	return detect.Report{
		Time:      s.End,
		Tenant:    s.Tenant,
		Rule:      r.name,
		Severity:  r.severity,
		Entities:  entities,
		DedupeKey: key,
		Technique: r.technique,
		Summary:   fmt.Sprintf("%s → %s%s %s (policy %q, rule %q)", endName(&s.Orig), endName(&s.Resp), service, r.verdict(s), p.Name, r.name),
		Sessions:  []string{s.UID + "/" + strconv.FormatUint(uint64(s.Seq), 10)},
		Values: map[string]float64{
			"bytes":      float64(s.OrigBytes + s.RespBytes),
			"packets":    float64(s.OrigPkts + s.RespPkts),
			"orig_bytes": float64(s.OrigBytes),
			"resp_bytes": float64(s.RespBytes),
		},
	}
}

// verdict says in words why the session broke the rule.
func (r *rule) verdict(s *schema.Session) string {
	switch r.kind {
	case kindOnlyFrom:
		return "comes from a source the rule does not allow"
	case kindOnlyTo:
		return "goes to a destination the rule does not allow"
	case kindKnownTags:
		var ends []string
		if !r.known(&s.Orig) {
			ends = append(ends, "source")
		}
		if !r.known(&s.Resp) {
			ends = append(ends, "destination")
		}
		return "has no known service tag on its " + strings.Join(ends, " and ")
	}
	return "is denied"
}

func endID(e *schema.Endpoint) string {
	if e.Asset != "" {
		return "asset:" + e.Asset
	}
	return "ip:" + e.IP.String()
}

func endName(e *schema.Endpoint) string {
	switch {
	case e.AssetName != "":
		return e.IP.String() + " (" + e.AssetName + ")"
	case e.Asset != "":
		return e.IP.String() + " (" + e.Asset + ")"
	}
	return e.IP.String()
}
