package defender

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// A cloud-side feed is JSON lines in the shape of Device Defender's
// metrics export: each line is one metric
//
//	{"thing":"t1","name":"aws:num-authorization-failures","timestamp":1700000000000,"value":{"count":3}}
//
// or one whole export message, {"version":"1.0","metrics":[…]}, as AWS
// publishes it to the export topic. timestamp is epoch milliseconds or an
// RFC 3339 string; value holds one of count, number, cidrs, ports,
// numbers and strings; a dimension, when present, joins the name as
// name[dimension] (name[!dimension] for NOT_IN).

type cloudLine struct {
	cloudMetric
	// Version is the export message's "1.0", or a metric's own version
	// number, which is not used.
	Version json.RawMessage `json:"version"`
	Metrics *[]cloudMetric  `json:"metrics"`
}

type cloudMetric struct {
	Thing     string          `json:"thing"`
	Name      string          `json:"name"`
	Timestamp json.RawMessage `json:"timestamp"`
	Value     *struct {
		Count   *int64    `json:"count"`
		Number  *float64  `json:"number"`
		CIDRs   []string  `json:"cidrs"`
		Ports   []int64   `json:"ports"`
		Numbers []float64 `json:"numbers"`
		Strings []string  `json:"strings"`
	} `json:"value"`
	Dimension *struct {
		Name     string `json:"name"`
		Operator string `json:"operator"`
	} `json:"dimension"`
}

// ParseCloudLine appends the metrics of one feed line to dst. A bad line
// adds nothing and returns a *ReportError naming the field.
func ParseCloudLine(dst []schema.DeviceMetric, line []byte, tenant string, maxList int) ([]schema.DeviceMetric, error) {
	var l cloudLine
	if err := json.Unmarshal(line, &l); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return dst, invalid(te.Field, "expected "+jsonTypeName(te.Type)+", got "+te.Value)
		}
		return dst, invalid("", "malformed JSON: "+err.Error())
	}
	if l.Metrics == nil {
		m, err := l.cloudMetric.toDeviceMetric("", tenant, maxList)
		if err != nil {
			return dst, err
		}
		return append(dst, m), nil
	}
	if v := string(bytes.TrimSpace(l.Version)); v != "" && v != `"1.0"` {
		return dst, &ReportError{Code: CodeUnsupportedVersion, Field: "version", Message: truncate(v) + ` is not "1.0"`}
	}
	if len(*l.Metrics) > maxList {
		return dst, invalid("metrics", fmt.Sprintf("%d entries, over the limit of %d", len(*l.Metrics), maxList))
	}
	n := len(dst)
	for i := range *l.Metrics {
		m, err := (*l.Metrics)[i].toDeviceMetric(fmt.Sprintf("metrics[%d].", i), tenant, maxList)
		if err != nil {
			return dst[:n], err
		}
		dst = append(dst, m)
	}
	return dst, nil
}

func (c *cloudMetric) toDeviceMetric(base, tenant string, maxList int) (schema.DeviceMetric, error) {
	var m schema.DeviceMetric
	if err := checkThingName(c.Thing); err != nil {
		return m, invalid(base+"thing", err.Error())
	}
	if err := checkMetricName(c.Name); err != nil {
		return m, invalid(base+"name", err.Error())
	}
	at, err := parseTimestamp(c.Timestamp)
	if err != nil {
		return m, invalid(base+"timestamp", err.Error())
	}
	m = schema.DeviceMetric{Tenant: tenant, Device: c.Thing, Time: at, Name: c.Name}
	if d := c.Dimension; d != nil {
		switch d.Operator {
		case "", "IN":
			m.Name += "[" + d.Name + "]"
		case "NOT_IN":
			m.Name += "[!" + d.Name + "]"
		default:
			return m, invalid(base+"dimension.operator", fmt.Sprintf("%q is not IN or NOT_IN", truncate(d.Operator)))
		}
	}
	v := c.Value
	if v == nil {
		return m, invalid(base+"value", "required")
	}
	field := base + "value"
	set := 0
	for _, present := range []bool{v.Count != nil, v.Number != nil, v.CIDRs != nil, v.Ports != nil, v.Numbers != nil, v.Strings != nil} {
		if present {
			set++
		}
	}
	if set != 1 {
		return m, invalid(field, fmt.Sprintf("needs exactly one of count, number, cidrs, ports, numbers, strings; has %d", set))
	}
	if n := len(v.CIDRs) + len(v.Ports) + len(v.Numbers) + len(v.Strings); n > maxList {
		return m, invalid(field, fmt.Sprintf("%d entries, over the limit of %d", n, maxList))
	}
	switch {
	case v.Count != nil:
		if *v.Count < 0 {
			return m, invalid(field+".count", fmt.Sprintf("%d is negative", *v.Count))
		}
		m.Value = float64(*v.Count)
	case v.Number != nil:
		m.Value = *v.Number
	case v.CIDRs != nil:
		m.List = make([]string, len(v.CIDRs))
		for i, s := range v.CIDRs {
			if m.List[i], err = parseIPOrCIDR(s); err != nil {
				return m, invalid(fmt.Sprintf("%s.cidrs[%d]", field, i), err.Error())
			}
		}
	case v.Ports != nil:
		m.List = make([]string, len(v.Ports))
		for i, p := range v.Ports {
			if p <= 0 || p > math.MaxUint16 {
				return m, invalid(fmt.Sprintf("%s.ports[%d]", field, i), fmt.Sprintf("%d is not a port (1-65535)", p))
			}
			m.List[i] = strconv.FormatInt(p, 10)
		}
	case v.Numbers != nil:
		m.List = make([]string, len(v.Numbers))
		for i, f := range v.Numbers {
			m.List[i] = strconv.FormatFloat(f, 'g', -1, 64)
		}
	default:
		m.List = v.Strings
	}
	if m.List != nil {
		m.Value = float64(len(m.List))
	}
	return m, nil
}

// checkMetricName takes AWS's names and custom metric names.
func checkMetricName(name string) error {
	if awsMetrics[name] {
		return nil
	}
	if len(name) > 4 && name[:4] == "aws:" {
		return fmt.Errorf("%q is not a Device Defender metric", truncate(name))
	}
	return checkCustomName(name)
}

func parseTimestamp(raw json.RawMessage) (time.Time, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return time.Time{}, errors.New("required")
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not RFC 3339", truncate(s))
		}
		return t.UTC(), nil
	default:
		ms, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || ms <= 0 {
			return time.Time{}, fmt.Errorf("%s is not epoch milliseconds", truncate(string(raw)))
		}
		return time.UnixMilli(ms).UTC(), nil
	}
}
