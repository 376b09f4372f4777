package flowlog

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// LogEntry lines with the fields of "About VPC Flow Logs records"
// (https://cloud.google.com/vpc/docs/about-flow-logs-records): int64
// counters as strings (proto3 JSON), ports and protocol as numbers, the
// reporter's instance and VPC details, the peer's location.
const (
	gcpSrc = `{"insertId":"a1","jsonPayload":{"bytes_sent":"1776","connection":{"dest_ip":"203.0.113.12","dest_port":33478,"protocol":6,"src_ip":"10.87.40.76","src_port":5601},` +
		`"dest_location":{"asn":15169,"continent":"America","country":"usa"},"end_time":"2019-06-14T03:45:37.301953198Z","packets_sent":"7","reporter":"SRC","rtt_msec":"36",` +
		`"src_instance":{"project_id":"my-project","region":"us-east1","vm_name":"kibana","zone":"us-east1-b"},` +
		`"src_vpc":{"project_id":"my-project","subnetwork_name":"default","vpc_name":"default"},"start_time":"2019-06-14T03:45:37.186193305Z"},` +
		`"logName":"projects/my-project/logs/compute.googleapis.com%2Fvpc_flows","resource":{"labels":{"location":"us-east1-b","project_id":"my-project","subnetwork_name":"default"},"type":"gce_subnetwork"},` +
		`"timestamp":"2019-06-14T03:50:10.845445834Z"}`
	gcpDest = `{"insertId":"a2","jsonPayload":{"bytes_sent":173663,"connection":{"dest_ip":"10.87.40.76","dest_port":33970,"protocol":6,"src_ip":"198.51.100.248","src_port":9200},` +
		`"dest_instance":{"project_id":"my-project","region":"us-east1","vm_name":"kibana","zone":"us-east1-b"},` +
		`"dest_vpc":{"project_id":"my-project","subnetwork_name":"default","vpc_name":"default"},"end_time":"2019-06-14T03:49:51.821302149Z","packets_sent":"68","reporter":"DEST",` +
		`"src_instance":{"project_id":"other-project","region":"us-east1","vm_name":"elasticsearch","zone":"us-east1-c"},"start_time":"2019-06-14T03:40:08.466657665Z"},` +
		`"logName":"projects/my-project/logs/compute.googleapis.com%2Fvpc_flows","resource":{"labels":{"project_id":"my-project"},"type":"gce_subnetwork"}}`
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestGCP(t *testing.T) {
	want := []schema.Session{flowRecord(SourceGCP, func(s *schema.Session, f *schema.Flow) {
		s.Proto, s.Transport = 6, "tcp"
		s.Start, s.End = ts("2019-06-14T03:45:37.186193305Z"), ts("2019-06-14T03:45:37.301953198Z")
		s.Orig, s.Resp = ep("10.87.40.76", 5601), ep("203.0.113.12", 33478)
		s.OrigPkts, s.OrigIPBytes, s.OrigBytes = 7, 1776, 1776
		f.Direction, f.Account, f.Region, f.Zone, f.Instance, f.VPC, f.Subnet = "egress", "my-project", "us-east1", "us-east1-b", "kibana", "default", "default"
		f.Extra = map[string]string{"reporter": "SRC", "rtt_msec": "36", "dest_location.asn": "15169", "dest_location.continent": "America",
			"dest_location.country": "usa", "src_vpc.project_id": "my-project"}
	}), flowRecord(SourceGCP, func(s *schema.Session, f *schema.Flow) {
		s.Proto, s.Transport = 6, "tcp"
		s.Start, s.End = ts("2019-06-14T03:40:08.466657665Z"), ts("2019-06-14T03:49:51.821302149Z")
		s.Orig, s.Resp = ep("198.51.100.248", 9200), ep("10.87.40.76", 33970)
		s.OrigPkts, s.OrigIPBytes, s.OrigBytes = 68, 173663, 173663
		f.Direction, f.Account, f.Region, f.Zone, f.Instance, f.VPC, f.Subnet = "ingress", "my-project", "us-east1", "us-east1-b", "kibana", "default", "default"
		f.Extra = map[string]string{"reporter": "DEST", "dest_vpc.project_id": "my-project", "src_instance.project_id": "other-project",
			"src_instance.region": "us-east1", "src_instance.vm_name": "elasticsearch", "src_instance.zone": "us-east1-c"}
	})}
	for name, text := range map[string]string{
		"JSON lines": gcpSrc + "\n\n" + gcpDest + "\n",
		"JSON array": " [\n" + gcpSrc + ",\n" + gcpDest + "\n]\n",
	} {
		t.Run(name, func(t *testing.T) {
			got, rej, _ := readString(t, DefaultConfig(), text)
			for _, b := range rej {
				t.Errorf("rejected: %v", &b)
			}
			if diff := cmp.Diff(want, got, ignoreDerived); diff != "" {
				t.Errorf("sessions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGCPBadEntries(t *testing.T) {
	cases := []struct {
		name, line, field, err string
	}{
		{"not JSON", `{"jsonPayload":`, "", "unexpected EOF"},
		{"no payload", `{"insertId":"x"}`, "", "no jsonPayload"},
		{"no connection", strings.Replace(gcpSrc, `"connection"`, `"conn"`, 1), "jsonPayload.connection", "missing"},
		{"bad address", strings.Replace(gcpSrc, `"10.87.40.76"`, `"10.87.40"`, 1), "jsonPayload.connection.src_ip", "not an IP address"},
		{"bad port", strings.Replace(gcpSrc, `33478`, `-1`, 1), "jsonPayload.connection.dest_port", "not a number"},
		{"bad protocol", strings.Replace(gcpSrc, `"protocol":6`, `"protocol":"tcp"`, 1), "jsonPayload.connection.protocol", "not a number"},
		{"bad count", strings.Replace(gcpSrc, `"1776"`, `"1e3"`, 1), "jsonPayload.bytes_sent", "not a number"},
		{"bad time", strings.Replace(gcpSrc, `2019-06-14T03:45:37.186193305Z`, `yesterday`, 1), "jsonPayload.start_time", "not an RFC 3339 time"},
		{"start after end", strings.Replace(gcpSrc, `03:45:37.186193305Z`, `04:45:37Z`, 1), "jsonPayload.start_time", "is after end_time"},
		{"bad reporter", strings.Replace(gcpSrc, `"SRC"`, `"ME"`, 1), "jsonPayload.reporter", "not SRC, DEST"},
		{"trailing data", gcpSrc + " {}", "", "data after the log entry"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, rej, _ := readString(t, DefaultConfig(), gcpDest+"\n"+c.line+"\n"+gcpDest+"\n")
			if len(got) != 2 || len(rej) != 1 {
				t.Fatalf("%d sessions, %d rejects", len(got), len(rej))
			}
			b := rej[0]
			if b.Kind != SourceGCP || b.Line != 2 || b.Offset != int64(len(gcpDest)+1) || b.Field != c.field ||
				!strings.Contains(b.Err.Error(), c.err) || string(b.Raw) != c.line {
				t.Errorf("reject %+v (%v)", b, b.Err)
			}
		})
	}
}
