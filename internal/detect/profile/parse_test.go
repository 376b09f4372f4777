package profile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestLoadShapes(t *testing.T) {
	for _, tc := range []struct {
		file  string
		names []string
	}{
		{"testdata/cameras.json", []string{"Cameras"}},   // a create-security-profile request
		{"testdata/describe.json", []string{"Gateways"}}, // describe-security-profile output
		{"testdata/list.json", []string{"A", "B"}},       // an array
	} {
		t.Run(tc.file, func(t *testing.T) {
			ps, err := Load(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range ps {
				names = append(names, p.SecurityProfileName)
			}
			if !cmp.Equal(names, tc.names) {
				t.Errorf("profiles %v, want %v", names, tc.names)
			}
		})
	}
}

// TestAWSExample checks the fields of a profile written after the
// examples of AWS's documentation.
func TestAWSExample(t *testing.T) {
	ps, err := Load("testdata/cameras.json")
	if err != nil {
		t.Fatal(err)
	}
	p := ps[0]
	if len(p.Behaviors) != 7 || p.AlertTargets["SNS"].RoleArn == "" || len(p.AdditionalMetricsToRetainV2) != 2 || p.Tags[0].Key != "team" {
		t.Fatalf("decoded %+v", p)
	}
	b := p.Behaviors[0]
	if b.Metric != "aws:all-bytes-out" || *b.Criteria.Value.Count != 4096 || *b.Criteria.DurationSeconds != 300 || !*b.SuppressAlerts {
		t.Errorf("behaviour 0: %+v", b)
	}
	if ml := p.Behaviors[4]; ml.Criteria.MLDetectionConfig.ConfidenceLevel != "HIGH" || ml.MetricDimension.DimensionName != "TopicFilterForAuthMessages" {
		t.Errorf("behaviour 4: %+v", ml)
	}
	if st := p.Behaviors[3].Criteria.StatisticalThreshold; st == nil || st.Statistic != "p90" {
		t.Errorf("behaviour 3: %+v", p.Behaviors[3].Criteria)
	}
}

// TestRoundTrip: import, export, import gives the same profiles, and a
// second export the same bytes; describe-only fields are dropped.
func TestRoundTrip(t *testing.T) {
	for _, file := range []string{"testdata/cameras.json", "testdata/describe.json", "testdata/list.json"} {
		t.Run(file, func(t *testing.T) {
			first, err := Load(file)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := Export(&out, first); err != nil {
				t.Fatal(err)
			}
			if s := out.String(); strings.Contains(s, "securityProfileArn") || strings.Contains(s, "creationDate") {
				t.Errorf("export keeps describe-only fields:\n%s", s)
			}
			second, err := Parse("export", out.Bytes())
			if err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			if d := cmp.Diff(first, second, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("round trip (-import +re-import):\n%s", d)
			}
			var again bytes.Buffer
			if err := Export(&again, second); err != nil || again.String() != out.String() {
				t.Errorf("second export differs (%v):\n%s", err, again.String())
			}
		})
	}
}

func TestRoundTripEmptySet(t *testing.T) {
	in := profileJSON(`{"name":"b","metric":"aws:listening-udp-ports","criteria":{"comparisonOperator":"in-port-set","value":{"ports":[]}}}`)
	ps, err := Parse("f.json", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Export(&out, ps); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("export", out.Bytes()); err != nil || !strings.Contains(out.String(), `"ports": []`) {
		t.Errorf("%v\n%s", err, out.String())
	}
}

func TestLoadDuplicateAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "again.json")
	if err := os.WriteFile(p, []byte(`{"securityProfileName":"Cameras"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load("testdata/cameras.json", p)
	if err == nil || !strings.Contains(err.Error(), "already defined in testdata/cameras.json") || !strings.Contains(err.Error(), p) {
		t.Errorf("got %v", err)
	}
}

// behaviour wraps one behaviour's JSON in a profile.
func behaviour(b string) string {
	return `{"securityProfileName":"P","behaviors":[{"name":"ok","metric":"aws:all-bytes-in","criteria":{"comparisonOperator":"less-than","value":{"count":1}}},` + b + `]}`
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       []string // all in the error
	}{
		{"syntax", "{\n \"securityProfileName\": \"P\",\n x}", []string{"f.json", "line 3"}},
		{"unknown field", `{"securityProfileName":"P","target":"x"}`, []string{"f.json: profile 0", `unknown field "target"`}},
		{"trailing data", `{"securityProfileName":"P"} {}`, []string{"JSON array"}},
		{"type", `{"securityProfileName":"P","behaviors":[{"name":"b","criteria":{"value":{"count":"x"}}}]}`, []string{"behaviors.criteria.value.count", "int64"}},
		{"profile name", `{"securityProfileName":"no spaces"}`, []string{"securityProfileName", "[a-zA-Z0-9:_-]"}},
		{"list entry", `[{"securityProfileName":"P"},{"securityProfileName":"Q","x":1}]`, []string{"profile 1", "unknown field"}},
		{"duplicate profile", `[{"securityProfileName":"P"},{"securityProfileName":"P"}]`, []string{"profile 1 \"P\"", "already defined by profile 0"}},
		{"alert target", `{"securityProfileName":"P","alertTargets":{"EMAIL":{"alertTargetArn":"a","roleArn":"r"}}}`, []string{"alertTargets.EMAIL", "SNS"}},
		{"behaviour name", behaviour(`{"name":"a b","metric":"aws:all-bytes-in","criteria":{"comparisonOperator":"less-than","value":{"count":1}}}`), []string{`behaviors[1] "a b": name`}},
		{"duplicate behaviour", behaviour(`{"name":"ok","metric":"aws:all-bytes-in","criteria":{"comparisonOperator":"less-than","value":{"count":1}}}`), []string{`behaviors[1] "ok": name: already used by behaviors[0]`}},
		{"unknown aws metric", behaviour(`{"name":"m","metric":"aws:cpu","criteria":{"comparisonOperator":"less-than","value":{"count":1}}}`), []string{`behaviors[1] "m": metric`, "not a Device Defender metric"}},
		{"no criteria", behaviour(`{"name":"m","metric":"aws:all-bytes-in"}`), []string{"criteria: required"}},
		{"operator", behaviour(`{"name":"m","metric":"aws:all-bytes-in","criteria":{"comparisonOperator":"equals","value":{"count":1}}}`), []string{"criteria.comparisonOperator", `"equals"`}},
		{"operator for metric", behaviour(`{"name":"m","metric":"aws:listening-tcp-ports","criteria":{"comparisonOperator":"less-than","value":{"count":1}}}`), []string{"criteria.comparisonOperator", "port-list"}},
		{"cidr set on bytes", behaviour(`{"name":"m","metric":"aws:all-bytes-in","criteria":{"comparisonOperator":"in-cidr-set","value":{"cidrs":["10.0.0.0/8"]}}}`), []string{"does not apply to aws:all-bytes-in"}},
		{"value shape", behaviour(`{"name":"m","metric":"aws:listening-tcp-ports","criteria":{"comparisonOperator":"in-port-set","value":{"count":1}}}`), []string{"criteria.value", "ports"}},
		{"two shapes", behaviour(`{"name":"m","metric":"aws:all-bytes-in","criteria":{"comparisonOperator":"less-than","value":{"count":1,"number":2}}}`), []string{"criteria.value", "exactly one of count or number"}},
		{"negative count", behaviour(`{"name":"m","metric":"aws:all-bytes-in","criteria":{"comparisonOperator":"less-than","value":{"count":-1}}}`), []string{"criteria.value.count", "negative"}},
		{"port range", behaviour(`{"name":"m","metric":"aws:listening-udp-ports","criteria":{"comparisonOperator":"in-port-set","value":{"ports":[53,70000]}}}`), []string{"criteria.value.ports[1]", "70000"}},
		{"cidr", behaviour(`{"name":"m","metric":"aws:destination-ip-addresses","criteria":{"comparisonOperator":"in-cidr-set","value":{"cidrs":["10.0.0.0/33"]}}}`), []string{"criteria.value.cidrs[0]"}},
		{"to alarm", behaviour(`{"name":"m","metric":"aws:all-bytes-in","criteria":{"comparisonOperator":"less-than","value":{"count":1},"consecutiveDatapointsToAlarm":0}}`), []string{"criteria.consecutiveDatapointsToAlarm", "between 1 and 10"}},
		{"to clear", behaviour(`{"name":"m","metric":"aws:all-bytes-in","criteria":{"comparisonOperator":"less-than","value":{"count":1},"consecutiveDatapointsToClear":11}}`), []string{"criteria.consecutiveDatapointsToClear"}},
		{"value and statistic", behaviour(`{"name":"m","metric":"aws:all-bytes-in","criteria":{"comparisonOperator":"less-than","value":{"count":1},"statisticalThreshold":{"statistic":"p50"}}}`), []string{"exactly one of value, statisticalThreshold and mlDetectionConfig; has 2"}},
		{"nothing to compare", behaviour(`{"name":"m","metric":"aws:all-bytes-in","criteria":{"comparisonOperator":"less-than"}}`), []string{"has 0"}},
		{"statistic", behaviour(`{"name":"m","metric":"aws:all-bytes-in","criteria":{"comparisonOperator":"less-than","statisticalThreshold":{"statistic":"p75"}}}`), []string{"criteria.statisticalThreshold.statistic", `"p75"`}},
		{"statistic on list", behaviour(`{"name":"m","metric":"aws:listening-tcp-ports","criteria":{"comparisonOperator":"in-port-set","statisticalThreshold":{"statistic":"p50"}}}`), []string{"criteria.statisticalThreshold", "number metrics only"}},
		{"duration value", behaviour(`{"name":"m","metric":"aws:all-bytes-in","criteria":{"comparisonOperator":"less-than","value":{"count":1},"durationSeconds":100}}`), []string{"criteria.durationSeconds", "100 is not 300"}},
		{"duration on list", behaviour(`{"name":"m","metric":"aws:listening-tcp-ports","criteria":{"comparisonOperator":"in-port-set","value":{"ports":[22]},"durationSeconds":300}}`), []string{"criteria.durationSeconds", "list metric"}},
		{"ml level", behaviour(`{"name":"m","metric":"aws:all-bytes-in","criteria":{"mlDetectionConfig":{"confidenceLevel":"VERY_HIGH"}}}`), []string{"criteria.mlDetectionConfig.confidenceLevel"}},
		{"ml metric", behaviour(`{"name":"m","metric":"aws:destination-ip-addresses","criteria":{"mlDetectionConfig":{"confidenceLevel":"LOW"}}}`), []string{"ML Detect does not take aws:destination-ip-addresses"}},
		{"ml duration", behaviour(`{"name":"m","metric":"aws:all-bytes-in","criteria":{"durationSeconds":300,"mlDetectionConfig":{"confidenceLevel":"LOW"}}}`), []string{"criteria.durationSeconds", "not used with mlDetectionConfig"}},
		{"dimension on custom", behaviour(`{"name":"m","metric":"battery","metricDimension":{"dimensionName":"d"},"criteria":{"comparisonOperator":"less-than","value":{"number":1}}}`), []string{"metricDimension", "takes no dimension"}},
		{"dimension operator", behaviour(`{"name":"m","metric":"aws:num-messages-sent","metricDimension":{"dimensionName":"d","operator":"IS"},"criteria":{"comparisonOperator":"less-than","value":{"count":1}}}`), []string{"metricDimension.operator"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.json", []byte(tc.json))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	_, err := Parse("f.json", []byte(`{"securityProfileName":"P","behaviors":[
		{"name":"a","metric":"aws:all-bytes-in","criteria":{"comparisonOperator":"less-than","value":{"count":-1}}},
		{"name":"b","metric":"aws:all-bytes-in","criteria":{"comparisonOperator":"less-than","value":{"count":1},"consecutiveDatapointsToAlarm":20}}]}`))
	if err == nil || !strings.Contains(err.Error(), `behaviors[0] "a"`) || !strings.Contains(err.Error(), `behaviors[1] "b"`) {
		t.Errorf("got %v", err)
	}
}
