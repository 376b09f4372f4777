package flowlog

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// flowRecord is a session as every flow record has it, changed by mod.
func flowRecord(source string, mod func(s *schema.Session, f *schema.Flow)) schema.Session {
	s := schema.Session{Version: schema.SessionVersion, Final: true, EndReason: "window", Source: source,
		ConnState: "OTH", Transport: "unknown_transport", Flow: &schema.Flow{}}
	mod(&s, s.Flow)
	return s
}

func vpcRecord(mod func(s *schema.Session, f *schema.Flow)) schema.Session {
	return flowRecord(SourceVPC, mod)
}

func ep(addr string, port uint16) schema.Endpoint {
	return schema.Endpoint{IP: netip.MustParseAddr(addr), Port: port}
}

func unix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// ignoreDerived leaves out what is checked elsewhere (uid, community_id).
var ignoreDerived = cmp.Options{cmpopts.IgnoreFields(schema.Session{}, "UID", "CommunityID"),
	cmpopts.EquateComparable(netip.Addr{})}

// The records are the examples of the AWS VPC user guide, "Flow log record
// examples" (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html),
// plus records with every field of versions 2 to 8.
func TestVPCRecords(t *testing.T) {
	tcp := func(s *schema.Session) { s.Proto, s.Transport = 6, "tcp" }
	cases := []struct {
		name   string
		fields []string // Config.Fields
		text   string
		want   []schema.Session
	}{{
		name: "default format accepted",
		text: "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n",
		want: []schema.Session{vpcRecord(func(s *schema.Session, f *schema.Flow) {
			tcp(s)
			s.Start, s.End = unix(1418530010), unix(1418530070)
			s.Orig, s.Resp = ep("172.31.16.139", 20641), ep("172.31.16.21", 22)
			s.OrigPkts, s.OrigIPBytes, s.OrigBytes = 20, 4249, 4249
			f.Action, f.Account, f.Interface = "accept", "123456789010", "eni-1235b8ca123456789"
		})},
	}, {
		name: "default format rejected, with header line",
		text: "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
			"2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK\n",
		want: []schema.Session{vpcRecord(func(s *schema.Session, f *schema.Flow) {
			tcp(s)
			s.Start, s.End = unix(1418530010), unix(1418530070)
			s.Orig, s.Resp = ep("172.31.9.69", 49761), ep("172.31.9.12", 3389)
			s.OrigPkts, s.OrigIPBytes, s.OrigBytes = 20, 4249, 4249
			f.Action, f.Account, f.Interface = "reject", "123456789010", "eni-1235b8ca123456789"
		})},
	}, {
		name: "NODATA and SKIPDATA",
		text: "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA\n" +
			"2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA\n",
		want: []schema.Session{vpcRecord(func(s *schema.Session, f *schema.Flow) {
			s.Start, s.End = unix(1431280876), unix(1431280934)
			f.Status, f.Account, f.Interface = "nodata", "123456789010", "eni-1235b8ca123456789"
		}), vpcRecord(func(s *schema.Session, f *schema.Flow) {
			s.Start, s.End = unix(1431280876), unix(1431280934)
			f.Status, f.Account, f.Interface = "skipdata", "123456789010", "eni-11111111aaaaaaaaa"
		})},
	}, {
		name: "ICMP through a stateless ACL",
		text: "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK\n",
		want: []schema.Session{vpcRecord(func(s *schema.Session, f *schema.Flow) {
			s.Proto, s.Transport = 1, "icmp"
			s.Start, s.End = unix(1432917027), unix(1432917142)
			s.Orig, s.Resp = ep("203.0.113.12", 0), ep("172.31.16.139", 0)
			s.OrigPkts, s.OrigIPBytes, s.OrigBytes = 4, 336, 336
			f.Action, f.Account, f.Interface = "accept", "123456789010", "eni-1235b8ca123456789"
		})},
	}, {
		name: "IPv6",
		text: "2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK\n",
		want: []schema.Session{vpcRecord(func(s *schema.Session, f *schema.Flow) {
			tcp(s)
			s.Start, s.End = unix(1477913708), unix(1477913820)
			s.Orig, s.Resp = ep("2001:db8:1234:a100:8d6e:3477:df66:f105", 34892), ep("2001:db8:1234:a102:3304:8879:34cf:4071", 22)
			s.OrigPkts, s.OrigIPBytes, s.OrigBytes = 54, 8855, 8855
			f.Action, f.Account, f.Interface = "accept", "123456789010", "eni-1235b8ca123456789"
		})},
	}, {
		// Custom order: bytes before packets; two spaces in the second
		// record, as the guide prints it.
		name: "version 3 TCP flag sequence",
		text: "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status\n" +
			"3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 52.213.180.42 10.0.0.62 43638 5001 52.213.180.42 10.0.0.62 6 1260 17 1566933133 1566933193 ACCEPT 3 OK\n" +
			"3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 10.0.0.62 52.213.180.42 5001 43638  10.0.0.62 52.213.180.42 6 967 14 1566933133 1566933193 ACCEPT 19 OK\n",
		want: []schema.Session{vpcRecord(func(s *schema.Session, f *schema.Flow) {
			tcp(s)
			s.Start, s.End = unix(1566933133), unix(1566933193)
			s.Orig, s.Resp = ep("52.213.180.42", 43638), ep("10.0.0.62", 5001)
			s.OrigPkts, s.OrigIPBytes, s.OrigBytes = 17, 1260, 1260
			f.Action, f.TCPFlags, f.Account, f.Interface = "accept", 3, "123456789010", "eni-1235b8ca123456789"
			f.VPC, f.Subnet, f.Instance = "vpc-abcdefab012345678", "subnet-aaaaaaaa012345678", "i-01234567890123456"
			f.Extra = map[string]string{"type": "IPv4"}
		}), vpcRecord(func(s *schema.Session, f *schema.Flow) {
			tcp(s)
			s.Start, s.End = unix(1566933133), unix(1566933193)
			s.Orig, s.Resp = ep("10.0.0.62", 5001), ep("52.213.180.42", 43638)
			s.OrigPkts, s.OrigIPBytes, s.OrigBytes = 14, 967, 967
			f.Action, f.TCPFlags, f.Account, f.Interface = "accept", 19, "123456789010", "eni-1235b8ca123456789"
			f.VPC, f.Subnet, f.Instance = "vpc-abcdefab012345678", "subnet-aaaaaaaa012345678", "i-01234567890123456"
			f.Extra = map[string]string{"type": "IPv4"}
		})},
	}, {
		// No header: the format comes from the configuration. Packet
		// addresses are kept only where they differ.
		name:   "NAT gateway, format from the configuration",
		fields: strings.Fields("instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr"),
		text: "- eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5\n" +
			"- eni-1235b8ca123456789 10.0.0.220 203.0.113.5 10.0.0.220 203.0.113.5\n" +
			"- eni-1235b8ca123456789 10.0.0.220 10.0.1.5 203.0.113.5 10.0.1.5\n",
		want: []schema.Session{vpcRecord(func(s *schema.Session, f *schema.Flow) {
			s.Orig, s.Resp = ep("10.0.1.5", 0), ep("10.0.0.220", 0)
			f.Interface, f.PktDst = "eni-1235b8ca123456789", netip.MustParseAddr("203.0.113.5")
		}), vpcRecord(func(s *schema.Session, f *schema.Flow) {
			s.Orig, s.Resp = ep("10.0.0.220", 0), ep("203.0.113.5", 0)
			f.Interface = "eni-1235b8ca123456789"
		}), vpcRecord(func(s *schema.Session, f *schema.Flow) {
			s.Orig, s.Resp = ep("10.0.0.220", 0), ep("10.0.1.5", 0)
			f.Interface, f.PktSrc = "eni-1235b8ca123456789", netip.MustParseAddr("203.0.113.5")
		})},
	}, {
		name: "version 5 service, traffic path and flow direction",
		text: "version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status\n" +
			"5 52.95.128.179 10.0.0.71 80 34210 6 1616729292 1616729349 IPv4 14 15044 123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 19 52.95.128.179 10.0.0.71 S3 - - ingress OK\n" +
			"5 10.0.0.71 52.95.128.179 34210 80 6 1616729292 1616729349 IPv4 7 471 123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 3 10.0.0.71 52.95.128.179 - S3 8 egress OK\n",
		want: []schema.Session{vpcRecord(func(s *schema.Session, f *schema.Flow) {
			tcp(s)
			s.Start, s.End = unix(1616729292), unix(1616729349)
			s.Orig, s.Resp = ep("52.95.128.179", 80), ep("10.0.0.71", 34210)
			s.OrigPkts, s.OrigIPBytes, s.OrigBytes = 14, 15044, 15044
			f.Action, f.TCPFlags, f.Direction, f.PktSrcService = "accept", 19, "ingress", "S3"
			f.Account, f.VPC, f.Subnet, f.Instance, f.Interface = "123456789012", "vpc-abcdefab012345678", "subnet-aaaaaaaa012345678", "i-0c50d5961bcb2d47b", "eni-1235b8ca123456789"
			f.Region, f.Zone = "ap-southeast-2", "apse2-az3"
			f.Extra = map[string]string{"type": "IPv4"}
		}), vpcRecord(func(s *schema.Session, f *schema.Flow) {
			tcp(s)
			s.Start, s.End = unix(1616729292), unix(1616729349)
			s.Orig, s.Resp = ep("10.0.0.71", 34210), ep("52.95.128.179", 80)
			s.OrigPkts, s.OrigIPBytes, s.OrigBytes = 7, 471, 471
			f.Action, f.TCPFlags, f.Direction, f.PktDstService = "accept", 3, "egress", "S3"
			f.Account, f.VPC, f.Subnet, f.Instance, f.Interface = "123456789012", "vpc-abcdefab012345678", "subnet-aaaaaaaa012345678", "i-0c50d5961bcb2d47b", "eni-1235b8ca123456789"
			f.Region, f.Zone = "ap-southeast-2", "apse2-az3"
			f.Extra = map[string]string{"type": "IPv4", "traffic-path": "8"}
		})},
	}, {
		name: "every field of versions 2 to 8, and one AWS added later",
		text: allFieldsHeader + " resource-id\n" + allFieldsRecord + " res-1\n",
		want: []schema.Session{allFieldsSession(map[string]string{"resource-id": "res-1"})},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Format, cfg.Fields = FormatVPC, c.fields
			got, rej, _ := readString(t, cfg, c.text)
			for _, b := range rej {
				t.Errorf("rejected: %v", &b)
			}
			if diff := cmp.Diff(c.want, got, ignoreDerived); diff != "" {
				t.Errorf("sessions (-want +got):\n%s", diff)
			}
		})
	}
}

// A record with every documented field, in the documented order.
const (
	allFieldsHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status " +
		"vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id " +
		"pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path " +
		"ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id ecs-container-id ecs-second-container-id " +
		"ecs-service-name ecs-task-definition-arn ecs-task-arn ecs-task-id reject-reason"
	allFieldsRecord = "8 123456789012 eni-0123456789abcdef0 10.0.1.20 203.0.113.7 43418 443 6 12 3400 1700000000 1700000060 REJECT OK " +
		"vpc-0a1b2c3d subnet-0a1b2c3d i-0123456789abcdef0 2 IPv4 10.0.1.99 203.0.113.7 us-east-1 use1-az2 outpost op-0123456789abcdef0 " +
		"- AMAZON egress 1 " +
		"arn:aws:ecs:us-east-1:123456789012:cluster/web web arn:aws:ecs:us-east-1:123456789012:container-instance/web/c1 c1 cont1 cont2 " +
		"websvc arn:aws:ecs:us-east-1:123456789012:task-definition/web:7 arn:aws:ecs:us-east-1:123456789012:task/web/t1 t1 BPA"
)

func allFieldsSession(more map[string]string) schema.Session {
	return vpcRecord(func(s *schema.Session, f *schema.Flow) {
		s.Proto, s.Transport = 6, "tcp"
		s.Start, s.End = unix(1700000000), unix(1700000060)
		s.Orig, s.Resp = ep("10.0.1.20", 43418), ep("203.0.113.7", 443)
		s.OrigPkts, s.OrigIPBytes, s.OrigBytes = 12, 3400, 3400
		f.Action, f.Direction, f.TCPFlags = "reject", "egress", 2
		f.Account, f.Interface, f.VPC, f.Subnet, f.Instance = "123456789012", "eni-0123456789abcdef0", "vpc-0a1b2c3d", "subnet-0a1b2c3d", "i-0123456789abcdef0"
		f.Region, f.Zone = "us-east-1", "use1-az2"
		f.PktSrc, f.PktDstService = netip.MustParseAddr("10.0.1.99"), "AMAZON"
		f.Extra = map[string]string{
			"type": "IPv4", "sublocation-type": "outpost", "sublocation-id": "op-0123456789abcdef0", "traffic-path": "1",
			"ecs-cluster-arn": "arn:aws:ecs:us-east-1:123456789012:cluster/web", "ecs-cluster-name": "web",
			"ecs-container-instance-arn": "arn:aws:ecs:us-east-1:123456789012:container-instance/web/c1", "ecs-container-instance-id": "c1",
			"ecs-container-id": "cont1", "ecs-second-container-id": "cont2", "ecs-service-name": "websvc",
			"ecs-task-definition-arn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
			"ecs-task-arn":            "arn:aws:ecs:us-east-1:123456789012:task/web/t1", "ecs-task-id": "t1", "reject-reason": "BPA",
		}
		for k, v := range more {
			f.Extra[k] = v
		}
	})
}

const acceptLine = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"

// Each bad line is rejected with its line, offset and field while the
// good lines around it come through.
func TestVPCBadLines(t *testing.T) {
	cases := []struct {
		name, line, field, err string
	}{
		{"field count", "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT", "", "13 fields, the format has 14"},
		{"bad address", "2 123456789010 eni-1 172.31.16.300 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK", "srcaddr", "not an IP address"},
		{"bad IPv6", "2 123456789010 eni-1 172.31.16.1 2001:db8::g 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK", "dstaddr", "not an IP address"},
		{"bad number", "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 2x0 4249 1418530010 1418530070 ACCEPT OK", "packets", "not a number"},
		{"port out of range", "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 65536 6 20 4249 1418530010 1418530070 ACCEPT OK", "dstport", "out of range"},
		{"bad protocol", "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 256 20 4249 1418530010 1418530070 ACCEPT OK", "protocol", "out of range"},
		{"start after end", "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530070 1418530010 ACCEPT OK", "start", "start 1418530070 is after end 1418530010"},
		{"time past year 9999", "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 253402300800 ACCEPT OK", "end", "out of range"},
		{"bad action", "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ALLOW OK", "action", "not ACCEPT or REJECT"},
		{"bad log-status", "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT FINE", "log-status", "not OK, NODATA or SKIPDATA"},
		{"data without source", "2 123456789010 eni-1 - 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK", "srcaddr", "missing in a record with data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := acceptLine + "\n" + c.line + "\r\n" + acceptLine + "\n"
			got, rej, st := readString(t, DefaultConfig(), text)
			if len(got) != 2 || st.Records != 2 || st.Rejected != 1 {
				t.Fatalf("%d sessions, stats %+v; want 2 sessions and 1 reject", len(got), st)
			}
			b := rej[0]
			if b.Kind != SourceVPC || b.Source != "test.log" || b.Line != 2 || b.Offset != int64(len(acceptLine)+1) || b.Field != c.field {
				t.Errorf("reject %+v", b)
			}
			if !strings.HasSuffix(b.Err.Error(), c.err) {
				t.Errorf("error %q, want it to end in %q", b.Err, c.err)
			}
			if string(b.Raw) != c.line {
				t.Errorf("raw %q", b.Raw)
			}
		})
	}
}

// A header may come back (files put end to end) and change the format;
// a bad header is rejected and the format in force stays.
func TestVPCHeaders(t *testing.T) {
	text := "srcaddr dstaddr bytes\n10.0.0.1 10.0.0.2 100\n" +
		"srcaddr dstaddr srcaddr\n10.0.0.1 10.0.0.2 200\n" +
		"\n" + defaultHeader + "\n" + acceptLine + "\n"
	got, rej, st := readString(t, DefaultConfig(), text)
	if len(got) != 3 || len(rej) != 1 || st.Skipped != 3 {
		t.Fatalf("%d sessions, %d rejects, stats %+v", len(got), len(rej), st)
	}
	if got[1].OrigIPBytes != 200 || got[2].OrigPkts != 20 || rej[0].Line != 3 || !strings.Contains(rej[0].Err.Error(), "twice") {
		t.Errorf("sessions %+v, reject %v", got, &rej[0])
	}
}

const defaultHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

// Reading the same input twice gives the same ids; records that differ
// in one key field get different ids; community_id (checked against the
// spec computed by hand) is set when both ends are.
func TestVPCIdentity(t *testing.T) {
	text := acceptLine + "\n" + strings.Replace(acceptLine, "ACCEPT", "REJECT", 1) + "\n" +
		"2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA\n"
	a, _, _ := readString(t, DefaultConfig(), text)
	b, _, _ := readString(t, DefaultConfig(), text)
	if diff := cmp.Diff(a, b, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("second read differs:\n%s", diff)
	}
	if a[0].UID == a[1].UID || a[0].UID == "" || a[0].UID[0] != 'C' {
		t.Errorf("uids %q %q", a[0].UID, a[1].UID)
	}
	if a[0].CommunityID != "1:78twGw5/iHs2/5/1899dIS6GfPc=" || a[2].CommunityID != "" {
		t.Errorf("community ids %q %q", a[0].CommunityID, a[2].CommunityID)
	}
}

func gzipped(t *testing.T, text string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(text))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Gzip is recognised by its magic bytes, in files and streams; a cut
// gzip stream is an error after the records before the cut.
func TestVPCGzip(t *testing.T) {
	text := defaultHeader + "\n" + strings.Repeat(acceptLine+"\n", 3000)
	gz := gzipped(t, text)
	path := filepath.Join(t.TempDir(), "flows.log.gz")
	if err := os.WriteFile(path, gz, 0o644); err != nil {
		t.Fatal(err)
	}
	sink, rej := &memSink{}, &memRejects{}
	r, err := New(DefaultConfig(), sink, rej)
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.ReadFile(context.Background(), path)
	if err != nil || st.Records != 3000 || st.Skipped != 1 || sink.batches != 3 {
		t.Fatalf("ReadFile: %+v in %d batches, %v", st, sink.batches, err)
	}
	st, err = r.Read(context.Background(), "cut.gz", bytes.NewReader(gz[:len(gz)/2]))
	if err == nil || st.Records == 0 || st.Rejected != 0 {
		t.Errorf("cut stream: %+v, %v", st, err)
	}
}
