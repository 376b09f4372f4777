package profile

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Error is a profile AWS would refuse, or Osprey cannot evaluate: it
// names the file, the profile (index in the file and name), the
// behaviour (index and name) and the field.
type Error struct {
	Source       string
	Index        int // profile index in the file; -1 for the file itself
	Profile      string
	Behavior     int // -1 when the error is not in a behaviour
	BehaviorName string
	Field        string
	Msg          string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Index >= 0 {
		fmt.Fprintf(&b, ": profile %d", e.Index)
		if e.Profile != "" {
			fmt.Fprintf(&b, " %q", e.Profile)
		}
	}
	if e.Behavior >= 0 {
		fmt.Fprintf(&b, ": behaviors[%d]", e.Behavior)
		if e.BehaviorName != "" {
			fmt.Fprintf(&b, " %q", e.BehaviorName)
		}
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	return b.String() + ": " + e.Msg
}

// namePattern is AWS's pattern for profile, behaviour, metric and
// dimension names (1 to 128 characters).
var namePattern = regexp.MustCompile(`^[a-zA-Z0-9:_-]{1,128}$`)

// checker gathers the errors of one profile.
type checker struct {
	src   string
	index int
	name  string
	errs  []error
}

func (c *checker) add(behavior int, bname, field, format string, args ...any) {
	c.errs = append(c.errs, &Error{Source: c.src, Index: c.index, Profile: c.name, Behavior: behavior,
		BehaviorName: bname, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// validate checks a profile as CreateSecurityProfile does, and what
// Osprey needs to evaluate it; it returns every error, not the first.
func validate(src string, index int, p *SecurityProfile) []error {
	c := &checker{src: src, index: index, name: p.SecurityProfileName}
	if !namePattern.MatchString(p.SecurityProfileName) {
		c.add(-1, "", "securityProfileName", "%q does not match [a-zA-Z0-9:_-]{1,128}", clip(p.SecurityProfileName))
	}
	if n := utf8.RuneCountInString(p.SecurityProfileDescription); n > 1000 {
		c.add(-1, "", "securityProfileDescription", "%d characters, over AWS's 1000", n)
	}
	for k, t := range p.AlertTargets {
		if k != "SNS" {
			c.add(-1, "", "alertTargets."+clip(k), "the only alert target type is SNS")
		}
		if t.AlertTargetArn == "" || t.RoleArn == "" {
			c.add(-1, "", "alertTargets."+clip(k), "alertTargetArn and roleArn are required")
		}
	}
	for i, m := range p.AdditionalMetricsToRetainV2 {
		f := fmt.Sprintf("additionalMetricsToRetainV2[%d]", i)
		if !namePattern.MatchString(m.Metric) {
			c.add(-1, "", f+".metric", "%q does not match [a-zA-Z0-9:_-]{1,128}", clip(m.Metric))
		}
		c.dimension(-1, "", f+".metricDimension", m.Metric, m.MetricDimension)
	}
	if e := p.MetricsExportConfig; e != nil && (e.MQTTTopic == "" || e.RoleArn == "") {
		c.add(-1, "", "metricsExportConfig", "mqttTopic and roleArn are required")
	}
	for i, t := range p.Tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			c.add(-1, "", fmt.Sprintf("tags[%d]", i), "Key is 1 to 128 characters, Value at most 256")
		}
	}
	seen := map[string]int{}
	for i := range p.Behaviors {
		b := &p.Behaviors[i]
		if j, ok := seen[b.Name]; ok {
			c.add(i, b.Name, "name", "already used by behaviors[%d]", j)
		}
		seen[b.Name] = i
		c.behavior(i, b)
	}
	return c.errs
}

func (c *checker) dimension(i int, bname, field, metric string, d *MetricDimension) {
	if d == nil {
		return
	}
	if !namePattern.MatchString(d.DimensionName) {
		c.add(i, bname, field+".dimensionName", "%q does not match [a-zA-Z0-9:_-]{1,128}", clip(d.DimensionName))
	}
	if d.Operator != "" && d.Operator != "IN" && d.Operator != "NOT_IN" {
		c.add(i, bname, field+".operator", "%q is not IN or NOT_IN", clip(d.Operator))
	}
	if info, ok := catalog[metric]; !ok || !info.dimension {
		c.add(i, bname, field, "%s takes no dimension (AWS: only message size, messages sent and received, authorization failures)", clip(metric))
	}
}

func (c *checker) behavior(i int, b *Behavior) {
	n := b.Name
	if !namePattern.MatchString(n) {
		c.add(i, n, "name", "%q does not match [a-zA-Z0-9:_-]{1,128}", clip(n))
	}
	info, known := catalog[b.Metric]
	switch {
	case b.Metric == "":
		c.add(i, n, "metric", "required")
		return
	case !known && strings.HasPrefix(b.Metric, "aws:"):
		c.add(i, n, "metric", "%q is not a Device Defender metric", clip(b.Metric))
		return
	case !namePattern.MatchString(b.Metric):
		c.add(i, n, "metric", "%q does not match [a-zA-Z0-9:_-]{1,128}", clip(b.Metric))
		return
	}
	c.dimension(i, n, "metricDimension", b.Metric, b.MetricDimension)
	cr := b.Criteria
	if cr == nil {
		c.add(i, n, "criteria", "required")
		return
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"consecutiveDatapointsToAlarm", cr.ConsecutiveDatapointsToAlarm}, {"consecutiveDatapointsToClear", cr.ConsecutiveDatapointsToClear}} {
		if f.v != nil && (*f.v < 1 || *f.v > 10) {
			c.add(i, n, "criteria."+f.name, "%d is not between 1 and 10", *f.v)
		}
	}
	set := 0
	for _, present := range []bool{cr.Value != nil, cr.StatisticalThreshold != nil, cr.MLDetectionConfig != nil} {
		if present {
			set++
		}
	}
	if set != 1 {
		c.add(i, n, "criteria", "needs exactly one of value, statisticalThreshold and mlDetectionConfig; has %d", set)
		return
	}
	if cr.MLDetectionConfig != nil {
		c.ml(i, n, b.Metric, known, info, cr)
		return
	}
	k := metricKind(b.Metric, cr)
	ops, ok := operators[cr.ComparisonOperator]
	switch {
	case cr.ComparisonOperator == "":
		c.add(i, n, "criteria.comparisonOperator", "required with a value or a statisticalThreshold")
		return
	case !ok:
		c.add(i, n, "criteria.comparisonOperator", "%q is not a Device Defender operator", clip(cr.ComparisonOperator))
		return
	case !slices.Contains(ops, k):
		c.add(i, n, "criteria.comparisonOperator", "%s does not apply to %s, a %s metric", cr.ComparisonOperator, clip(b.Metric), k)
		return
	}
	if d := cr.DurationSeconds; d != nil {
		switch {
		case k != kindNumber:
			c.add(i, n, "criteria.durationSeconds", "cannot be used with a list metric")
		case !durations[*d]:
			c.add(i, n, "criteria.durationSeconds", "%d is not 300, 600, 900, 1800 or 3600", *d)
		}
	}
	if st := cr.StatisticalThreshold; st != nil {
		if _, ok := statistics[st.Statistic]; !ok {
			c.add(i, n, "criteria.statisticalThreshold.statistic", "%q is not one of p0, p0.01, p0.1, p1, p10, p50, p90, p99, p99.9, p99.99, p100", clip(st.Statistic))
		}
		if k != kindNumber {
			c.add(i, n, "criteria.statisticalThreshold", "applies to number metrics only")
		}
		return
	}
	c.value(i, n, k, cr.Value)
}

func (c *checker) ml(i int, n, metric string, known bool, info metricInfo, cr *Criteria) {
	if l := cr.MLDetectionConfig.ConfidenceLevel; l != "LOW" && l != "MEDIUM" && l != "HIGH" {
		c.add(i, n, "criteria.mlDetectionConfig.confidenceLevel", "%q is not LOW, MEDIUM or HIGH", clip(l))
	}
	if known && !info.ml {
		c.add(i, n, "criteria.mlDetectionConfig", "ML Detect does not take %s", metric)
	}
	if cr.ComparisonOperator != "" {
		c.add(i, n, "criteria.comparisonOperator", "not used with mlDetectionConfig")
	}
	if cr.DurationSeconds != nil {
		c.add(i, n, "criteria.durationSeconds", "not used with mlDetectionConfig")
	}
}

// value checks that the value has the one shape the operator compares.
func (c *checker) value(i int, n string, k kind, v *MetricValue) {
	shapes := map[string]bool{"count": v.Count != nil, "number": v.Number != nil, "cidrs": v.CIDRs != nil,
		"ports": v.Ports != nil, "numbers": v.Numbers != nil, "strings": v.Strings != nil}
	var want []string
	switch k {
	case kindNumber:
		want = []string{"count", "number"}
	case kindIPList:
		want = []string{"cidrs"}
	case kindPortList:
		want = []string{"ports"}
	case kindNumberList:
		want = []string{"numbers"}
	default:
		want = []string{"strings"}
	}
	set, wanted := 0, 0
	for s, present := range shapes {
		if present {
			set++
			if slices.Contains(want, s) {
				wanted++
			}
		}
	}
	if set != 1 || wanted != 1 {
		c.add(i, n, "criteria.value", "a %s metric is compared with exactly one of %s", k, strings.Join(want, " or "))
		return
	}
	switch {
	case v.Count != nil && *v.Count < 0:
		c.add(i, n, "criteria.value.count", "%d is negative", *v.Count)
	case v.Number != nil && !finite(*v.Number):
		c.add(i, n, "criteria.value.number", "not a finite number")
	}
	for j, s := range v.CIDRs {
		if _, err := parsePrefix(s); err != nil {
			c.add(i, n, fmt.Sprintf("criteria.value.cidrs[%d]", j), "%v", err)
		}
	}
	for j, p := range v.Ports {
		if p < 0 || p > 65535 {
			c.add(i, n, fmt.Sprintf("criteria.value.ports[%d]", j), "%d is not a port (0-65535)", p)
		}
	}
}

// metricKind is an AWS metric's kind, or a custom metric's as its
// criteria imply (AWS knows it from CreateCustomMetric; the profile
// alone says it through the operator and value).
func metricKind(metric string, cr *Criteria) kind {
	if info, ok := catalog[metric]; ok {
		return info.kind
	}
	switch cr.ComparisonOperator {
	case "in-cidr-set", "not-in-cidr-set":
		return kindIPList
	case "in-port-set", "not-in-port-set":
		return kindPortList
	case "in-set", "not-in-set":
		if cr.Value != nil && cr.Value.Numbers != nil {
			return kindNumberList
		}
		return kindStringList
	}
	return kindNumber
}

// parsePrefix takes a CIDR or a bare address (a /32 or /128).
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR", clip(s))
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR", clip(s))
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// clip keeps error messages short whatever the input.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
