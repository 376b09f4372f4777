package flowlog

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// From "Flow logging for network security groups", version 2 sample
// (https://learn.microsoft.com/azure/network-watcher/nsg-flow-logs-overview),
// cut to a few tuples.
const nsgV2 = `{
    "records": [
        {
            "time": "2018-11-13T12:00:35.3899262Z",
            "systemId": "66aa66aa-bb77-cc88-dd99-00ee00ee00ee",
            "category": "NetworkSecurityGroupFlowEvent",
            "resourceId": "/SUBSCRIPTIONS/AAAA0A0A-BB1B-CC2C-DD3D-EEEEEE4E4E4E/RESOURCEGROUPS/FABRIKAMRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/FABRIAKMVM1-NSG",
            "operationName": "NetworkSecurityGroupFlowEvents",
            "properties": {
                "Version": 2,
                "flows": [
                    {
                        "rule": "DefaultRule_DenyAllInBound",
                        "flows": [
                            {
                                "mac": "000D3AF87856",
                                "flowTuples": [
                                    "1542110402,192.0.2.190,10.5.16.4,28746,443,U,I,D,B,,,,"
                                ]
                            }
                        ]
                    },
                    {
                        "rule": "DefaultRule_AllowInternetOutBound",
                        "flows": [
                            {
                                "mac": "000D3AF87856",
                                "flowTuples": [
                                    "1542110379,10.5.16.4,203.0.113.115,44931,443,T,O,A,C,30,16978,24,14008",
                                    "1542110406,10.5.16.4,198.51.100.225,59929,443,T,O,A,E,15,8489,12,7054"
                                ]
                            }
                        ]
                    }
                ]
            }
        }
    ]
}`

// From "Virtual network flow logs", sample log record
// (https://learn.microsoft.com/azure/network-watcher/vnet-flow-logs-overview):
// times in milliseconds, numeric protocols, an encryption state.
const vnetV4 = `{"records":[{"time":"2022-09-14T09:00:52.5625085Z","flowLogVersion":4,
 "flowLogGUID":"abcdef01-2345-6789-0abc-def012345678","macAddress":"00224871C205","category":"FlowLogFlowEvent",
 "flowLogResourceID":"/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_EASTUS2EUAP/FLOWLOGS/VNETFLOWLOG",
 "targetResourceID":"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myResourceGroup/providers/Microsoft.Network/virtualNetworks/myVNet",
 "operationName":"FlowLogFlowEvent",
 "flowRecords":{"flows":[
  {"aclID":"00000000-1234-abcd-ef00-c1c2c3c4c5c6","flowGroups":[{"rule":"DefaultRule_AllowInternetOutBound","flowTuples":[
   "1663146003599,10.0.0.6,52.239.184.180,23956,443,6,O,B,NX,0,0,0,0",
   "1663146003606,10.0.0.6,52.239.184.180,23956,443,6,O,E,NX,3,767,2,1580"]}]},
  {"aclID":"01020304-abcd-ef00-1234-102030405060","flowGroups":[{"rule":"BlockHighRiskTCPPortsFromInternet","flowTuples":[
   "1663145998065,101.33.218.153,10.0.0.6,55188,22,6,I,D,NX,0,0,0,0"]}]}]}}]}`

func azureRecordWant(mod func(s *schema.Session, f *schema.Flow)) schema.Session {
	return flowRecord(SourceAzure, mod)
}

func TestAzure(t *testing.T) {
	nsg := "/SUBSCRIPTIONS/AAAA0A0A-BB1B-CC2C-DD3D-EEEEEE4E4E4E/RESOURCEGROUPS/FABRIKAMRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/FABRIAKMVM1-NSG"
	nsgWhere := func(f *schema.Flow, rule, state string) {
		f.Account, f.Interface, f.Rule = "aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e", "00:0d:3a:f8:78:56", rule
		f.Extra = map[string]string{"resourceId": nsg, "state": state}
	}
	target := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myResourceGroup/providers/Microsoft.Network/virtualNetworks/myVNet"
	vnetWhere := func(f *schema.Flow, rule, acl, state string) {
		f.Account, f.VPC, f.Interface, f.Rule = "00000000-0000-0000-0000-000000000000", "myVNet", "00:22:48:71:c2:05", rule
		f.Extra = map[string]string{"targetResourceID": target, "aclID": acl, "state": state, "encryption": "NX"}
	}
	cases := []struct {
		name, text string
		want       []schema.Session
	}{{
		name: "NSG version 2",
		text: nsgV2,
		want: []schema.Session{azureRecordWant(func(s *schema.Session, f *schema.Flow) {
			s.Proto, s.Transport = 17, "udp"
			s.Start, s.End = unix(1542110402), unix(1542110402)
			s.Orig, s.Resp = ep("192.0.2.190", 28746), ep("10.5.16.4", 443)
			f.Action, f.Direction = "reject", "ingress"
			nsgWhere(f, "DefaultRule_DenyAllInBound", "B")
		}), azureRecordWant(func(s *schema.Session, f *schema.Flow) {
			s.Proto, s.Transport = 6, "tcp"
			s.Start, s.End = unix(1542110379), unix(1542110379)
			s.Orig, s.Resp = ep("10.5.16.4", 44931), ep("203.0.113.115", 443)
			s.OrigPkts, s.OrigIPBytes, s.RespPkts, s.RespIPBytes = 30, 16978, 24, 14008
			s.OrigBytes, s.RespBytes = s.OrigIPBytes, s.RespIPBytes
			f.Action, f.Direction = "accept", "egress"
			nsgWhere(f, "DefaultRule_AllowInternetOutBound", "C")
		}), azureRecordWant(func(s *schema.Session, f *schema.Flow) {
			s.Proto, s.Transport = 6, "tcp"
			s.Start, s.End = unix(1542110406), unix(1542110406)
			s.Orig, s.Resp = ep("10.5.16.4", 59929), ep("198.51.100.225", 443)
			s.OrigPkts, s.OrigIPBytes, s.RespPkts, s.RespIPBytes = 15, 8489, 12, 7054
			s.OrigBytes, s.RespBytes = s.OrigIPBytes, s.RespIPBytes
			f.Action, f.Direction = "accept", "egress"
			nsgWhere(f, "DefaultRule_AllowInternetOutBound", "E")
		})},
	}, {
		name: "NSG version 1",
		text: strings.NewReplacer(`"Version": 2`, `"Version": 1`, ",B,,,,", "", ",C,30,16978,24,14008", "", ",E,15,8489,12,7054", "").Replace(nsgV2),
		want: []schema.Session{azureRecordWant(func(s *schema.Session, f *schema.Flow) {
			s.Proto, s.Transport = 17, "udp"
			s.Start, s.End = unix(1542110402), unix(1542110402)
			s.Orig, s.Resp = ep("192.0.2.190", 28746), ep("10.5.16.4", 443)
			f.Action, f.Direction = "reject", "ingress"
			nsgWhere(f, "DefaultRule_DenyAllInBound", "")
			delete(f.Extra, "state")
		}), azureRecordWant(func(s *schema.Session, f *schema.Flow) {
			s.Proto, s.Transport = 6, "tcp"
			s.Start, s.End = unix(1542110379), unix(1542110379)
			s.Orig, s.Resp = ep("10.5.16.4", 44931), ep("203.0.113.115", 443)
			f.Action, f.Direction = "accept", "egress"
			nsgWhere(f, "DefaultRule_AllowInternetOutBound", "")
			delete(f.Extra, "state")
		}), azureRecordWant(func(s *schema.Session, f *schema.Flow) {
			s.Proto, s.Transport = 6, "tcp"
			s.Start, s.End = unix(1542110406), unix(1542110406)
			s.Orig, s.Resp = ep("10.5.16.4", 59929), ep("198.51.100.225", 443)
			f.Action, f.Direction = "accept", "egress"
			nsgWhere(f, "DefaultRule_AllowInternetOutBound", "")
			delete(f.Extra, "state")
		})},
	}, {
		name: "VNet",
		text: vnetV4,
		want: []schema.Session{azureRecordWant(func(s *schema.Session, f *schema.Flow) {
			s.Proto, s.Transport = 6, "tcp"
			s.Start, s.End = unix(1663146003), unix(1663146003)
			s.Orig, s.Resp = ep("10.0.0.6", 23956), ep("52.239.184.180", 443)
			f.Action, f.Direction = "accept", "egress"
			vnetWhere(f, "DefaultRule_AllowInternetOutBound", "00000000-1234-abcd-ef00-c1c2c3c4c5c6", "B")
		}), azureRecordWant(func(s *schema.Session, f *schema.Flow) {
			s.Proto, s.Transport = 6, "tcp"
			s.Start, s.End = unix(1663146003), unix(1663146003)
			s.Orig, s.Resp = ep("10.0.0.6", 23956), ep("52.239.184.180", 443)
			s.OrigPkts, s.OrigIPBytes, s.RespPkts, s.RespIPBytes = 3, 767, 2, 1580
			s.OrigBytes, s.RespBytes = s.OrigIPBytes, s.RespIPBytes
			f.Action, f.Direction = "accept", "egress"
			vnetWhere(f, "DefaultRule_AllowInternetOutBound", "00000000-1234-abcd-ef00-c1c2c3c4c5c6", "E")
		}), azureRecordWant(func(s *schema.Session, f *schema.Flow) {
			s.Proto, s.Transport = 6, "tcp"
			s.Start, s.End = unix(1663145998), unix(1663145998)
			s.Orig, s.Resp = ep("101.33.218.153", 55188), ep("10.0.0.6", 22)
			f.Action, f.Direction = "reject", "ingress"
			vnetWhere(f, "BlockHighRiskTCPPortsFromInternet", "01020304-abcd-ef00-1234-102030405060", "D")
		})},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, rej, _ := readString(t, DefaultConfig(), c.text)
			for _, b := range rej {
				t.Errorf("rejected: %v", &b)
			}
			if diff := cmp.Diff(c.want, got, ignoreDerived); diff != "" {
				t.Errorf("sessions (-want +got):\n%s", diff)
			}
		})
	}
}

// Bad tuples are rejected by record, offset and tuple; a record of the
// wrong shape is rejected whole; broken JSON ends the file with a reject.
func TestAzureBadInput(t *testing.T) {
	good := "1542110379,10.5.16.4,203.0.113.115,44931,443,T,O,A,C,30,16978,24,14008"
	rec := func(tuples ...string) string {
		return `{"resourceId":"/SUBSCRIPTIONS/S1/x","properties":{"Version":2,"flows":[{"rule":"r","flows":[{"mac":"000D3AF87856","flowTuples":["` +
			strings.Join(tuples, `","`) + `"]}]}]}}`
	}
	cases := []struct {
		name, tuple, field, err string
	}{
		{"value count", "1542110379,10.5.16.4,203.0.113.115,44931,443,T,O,A,C,30", "flowTuples[1]", "10 values in the tuple"},
		{"bad address", strings.Replace(good, "10.5.16.4", "10.5.16", 1), "flowTuples[1].src", "not an IP address"},
		{"bad protocol", strings.Replace(good, ",T,", ",X,", 1), "flowTuples[1].protocol", "not T or U"},
		{"bad port", strings.Replace(good, "44931", "70000", 1), "flowTuples[1].sport", "out of range"},
		{"bad counter", strings.Replace(good, ",30,", ",-3,", 1), "flowTuples[1].packets_s2d", "not a number"},
		{"bad state", strings.Replace(good, ",C,", ",Q,", 1), "flowTuples[1].state", "not a flow state"},
		{"bad decision", strings.Replace(good, ",A,", ",Y,", 1), "flowTuples[1].decision", "not A or D"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := `{"records":[` + rec(good) + "," + rec(good, c.tuple, good) + "]}"
			got, rej, _ := readString(t, DefaultConfig(), text)
			if len(got) != 3 || len(rej) != 1 {
				t.Fatalf("%d sessions, %d rejects", len(got), len(rej))
			}
			b := rej[0]
			if b.Kind != SourceAzure || b.Line != 2 || b.Offset != int64(len(`{"records":[`)+len(rec(good))+1) || b.Field != c.field ||
				!strings.Contains(b.Err.Error(), c.err) || string(b.Raw) != c.tuple {
				t.Errorf("reject %+v (%v)", b, b.Err)
			}
		})
	}
	t.Run("record of the wrong shape", func(t *testing.T) {
		text := `{"records":[` + rec(good) + `,{"properties":{"flows":"no"}},` + rec(good) + "]}"
		got, rej, _ := readString(t, DefaultConfig(), text)
		if len(got) != 2 || len(rej) != 1 || rej[0].Line != 2 || len(rej[0].Raw) == 0 {
			t.Errorf("%d sessions, rejects %+v", len(got), rej)
		}
	})
	t.Run("broken JSON", func(t *testing.T) {
		text := `{"records":[` + rec(good) + `,{"properties":` + rec(good) + "]}"
		got, rej, _ := readString(t, DefaultConfig(), text)
		if len(got) != 1 || len(rej) != 1 || !strings.Contains(rej[0].Err.Error(), "rest of the file skipped") {
			t.Errorf("%d sessions, rejects %+v", len(got), rej)
		}
	})
}
