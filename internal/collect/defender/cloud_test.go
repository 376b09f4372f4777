package defender

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestParseCloudLine(t *testing.T) {
	at := time.UnixMilli(1700000000000).UTC()
	for _, tc := range []struct {
		name, line string
		want       []schema.DeviceMetric
	}{
		{"count", `{"thing":"cam-1","name":"aws:num-authorization-failures","timestamp":1700000000000,"value":{"count":4}}`,
			[]schema.DeviceMetric{{Device: "cam-1", Time: at, Name: "aws:num-authorization-failures", Value: 4}}},
		{"cidrs and RFC 3339", `{"thing":"cam-1","name":"aws:source-ip-address","timestamp":"2023-11-14T22:13:20Z","value":{"cidrs":["198.51.100.23","10.1.0.0/16"]}}`,
			[]schema.DeviceMetric{{Device: "cam-1", Time: at, Name: "aws:source-ip-address", Value: 2, List: []string{"198.51.100.23", "10.1.0.0/16"}}}},
		{"ports", `{"thing":"t","name":"aws:listening-tcp-ports","timestamp":1700000000000,"value":{"ports":[22,80]}}`,
			[]schema.DeviceMetric{{Device: "t", Time: at, Name: "aws:listening-tcp-ports", Value: 2, List: []string{"22", "80"}}}},
		{"custom number", `{"thing":"t","name":"battery","timestamp":1700000000000,"value":{"number":0.5}}`,
			[]schema.DeviceMetric{{Device: "t", Time: at, Name: "battery", Value: 0.5}}},
		{"export message", `{"version":"1.0","metrics":[{"thing":"p","name":"aws:num-disconnects","timestamp":1700000000000,"value":{"count":2},"version":3},{"thing":"p","name":"aws:num-messages-received","timestamp":1700000000000,"value":{"count":9},"dimension":{"name":"telemetry","operator":"NOT_IN"}}]}`,
			[]schema.DeviceMetric{{Device: "p", Time: at, Name: "aws:num-disconnects", Value: 2}, {Device: "p", Time: at, Name: "aws:num-messages-received[!telemetry]", Value: 9}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCloudLine(nil, []byte(tc.line), "", 100)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseCloudLineRejects(t *testing.T) {
	for _, tc := range []struct{ name, line, field, message string }{
		{"not json", `{"thing":`, "", "malformed JSON"},
		{"no thing", `{"name":"aws:num-disconnects","timestamp":1,"value":{"count":1}}`, "thing", "empty thing name"},
		{"unknown aws metric", `{"thing":"t","name":"aws:num-cats","timestamp":1,"value":{"count":1}}`, "name", "not a Device Defender metric"},
		{"no timestamp", `{"thing":"t","name":"aws:num-disconnects","value":{"count":1}}`, "timestamp", "required"},
		{"bad timestamp", `{"thing":"t","name":"aws:num-disconnects","timestamp":"yesterday","value":{"count":1}}`, "timestamp", "RFC 3339"},
		{"no value", `{"thing":"t","name":"aws:num-disconnects","timestamp":1}`, "value", "required"},
		{"two values", `{"thing":"t","name":"aws:num-disconnects","timestamp":1,"value":{"count":1,"number":2}}`, "value", "exactly one"},
		{"negative count", `{"thing":"t","name":"aws:num-disconnects","timestamp":1,"value":{"count":-1}}`, "value.count", "negative"},
		{"bad cidr", `{"thing":"t","name":"aws:source-ip-address","timestamp":1,"value":{"cidrs":["1.2.3.4/40"]}}`, "value.cidrs[0]", "not an IP"},
		{"bad port", `{"thing":"t","name":"aws:listening-udp-ports","timestamp":1,"value":{"ports":[0]}}`, "value.ports[0]", "not a port"},
		{"bad metric in message", `{"version":"1.0","metrics":[{"thing":"t","name":"aws:num-disconnects","timestamp":1,"value":{"count":1}},{"thing":"t","name":"aws:num-disconnects","timestamp":1}]}`, "metrics[1].value", "required"},
		{"message version", `{"version":"2.0","metrics":[]}`, "version", "not \"1.0\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCloudLine(nil, []byte(tc.line), "", 100)
			var re *ReportError
			if !errors.As(err, &re) {
				t.Fatalf("got %v, %v; want a *ReportError", got, err)
			}
			if re.Field != tc.field || !strings.Contains(re.Message, tc.message) || len(got) != 0 {
				t.Errorf("got %q %q (%d metrics), want %q containing %q", re.Field, re.Message, len(got), tc.field, tc.message)
			}
		})
	}
}
