package flowlog

import (
	"fmt"
	"slices"
	"strings"
)

// vpcField is what the parser does with one VPC Flow Logs field. Fields
// without a column of their own in schema.Flow are vpcExtra: they land in
// flow.extra under their AWS name.
type vpcField uint8

const (
	vpcExtra vpcField = iota
	vpcVersion
	vpcAccount
	vpcInterface
	vpcSrcAddr
	vpcDstAddr
	vpcSrcPort
	vpcDstPort
	vpcProtocol
	vpcPackets
	vpcBytes
	vpcStart
	vpcEnd
	vpcAction
	vpcLogStatus
	vpcVPC
	vpcSubnet
	vpcInstance
	vpcTCPFlags
	vpcPktSrc
	vpcPktDst
	vpcRegion
	vpcAZ
	vpcPktSrcService
	vpcPktDstService
	vpcDirection
	vpcTrafficPath
)

// vpcFields maps the AWS field names to what is done with them, from the
// "Available fields" table of the VPC user guide
// (https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html).
// The version each field came with is in docs/flowlogs.md. Names not
// listed here (fields AWS adds later) are kept in flow.extra.
var vpcFields = map[string]vpcField{
	// version 2, the default format, in its order
	"version": vpcVersion, "account-id": vpcAccount, "interface-id": vpcInterface,
	"srcaddr": vpcSrcAddr, "dstaddr": vpcDstAddr, "srcport": vpcSrcPort, "dstport": vpcDstPort,
	"protocol": vpcProtocol, "packets": vpcPackets, "bytes": vpcBytes, "start": vpcStart, "end": vpcEnd,
	"action": vpcAction, "log-status": vpcLogStatus,
	// version 3
	"vpc-id": vpcVPC, "subnet-id": vpcSubnet, "instance-id": vpcInstance, "tcp-flags": vpcTCPFlags,
	"type": vpcExtra, "pkt-srcaddr": vpcPktSrc, "pkt-dstaddr": vpcPktDst,
	// version 4
	"region": vpcRegion, "az-id": vpcAZ, "sublocation-type": vpcExtra, "sublocation-id": vpcExtra,
	// version 5
	"pkt-src-aws-service": vpcPktSrcService, "pkt-dst-aws-service": vpcPktDstService,
	"flow-direction": vpcDirection, "traffic-path": vpcTrafficPath,
	// version 7 (ECS)
	"ecs-cluster-arn": vpcExtra, "ecs-cluster-name": vpcExtra, "ecs-container-instance-arn": vpcExtra,
	"ecs-container-instance-id": vpcExtra, "ecs-container-id": vpcExtra, "ecs-second-container-id": vpcExtra,
	"ecs-service-name": vpcExtra, "ecs-task-definition-arn": vpcExtra, "ecs-task-arn": vpcExtra,
	"ecs-task-id": vpcExtra,
	// version 8
	"reject-reason": vpcExtra,
}

// defaultVPCFields is the default format: the version 2 fields in order.
var defaultVPCFields = strings.Fields("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status")

// vpcFormat is a parsed field list: what to do with each column.
type vpcFormat struct {
	names []string
	kinds []vpcField
	v2    bool // the default format, which vpcV2 reads
}

// maxVPCFields bounds a header (AWS has about 45 fields).
const maxVPCFields = 128

// parseHeader checks a field list. Names AWS does not document are
// accepted (AWS adds fields) if they look like field names.
func parseHeader(names []string) (*vpcFormat, error) {
	if len(names) == 0 || len(names) > maxVPCFields {
		return nil, fmt.Errorf("%d fields, want 1 to %d", len(names), maxVPCFields)
	}
	f := &vpcFormat{names: make([]string, len(names)), kinds: make([]vpcField, len(names))}
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		n = strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(n, "${"), "}"), "_", "-")
		if !isFieldName(n) {
			return nil, fmt.Errorf("field %d: %q is not a field name", i+1, n)
		}
		if seen[n] {
			return nil, fmt.Errorf("field %q appears twice", n)
		}
		seen[n] = true
		f.names[i], f.kinds[i] = n, vpcFields[n]
	}
	f.v2 = slices.Equal(f.names, defaultVPCFields)
	return f, nil
}

// isFieldName accepts lower-case letters, digits and inner hyphens.
func isFieldName(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// headerLine tells a header line from a record: every token is a field
// name and at least one is a documented one. A record always has a value
// that is not (a number, an address, "-", ACCEPT, eni-…), except a custom
// format made only of fields like flow-direction whose values are words,
// and those are never documented field names.
func headerLine(tok [][]byte) bool {
	if len(tok) == 0 || len(tok[0]) == 0 || tok[0][0] < 'a' || tok[0][0] > 'z' {
		return false // the common case, a record of the default format
	}
	known := false
	for _, t := range tok {
		if !isFieldName(string(t)) {
			return false
		}
		if _, ok := vpcFields[string(t)]; ok {
			known = true
		}
	}
	return known
}
