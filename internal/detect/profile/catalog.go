package profile

import "github.com/osprey-ndr/osprey/internal/collect/defender"

// kind is a metric's value type, which decides the operators it takes.
type kind uint8

const (
	kindNumber     kind = iota + 1 // less-than … greater-than-equals
	kindIPList                     // in-cidr-set, not-in-cidr-set
	kindPortList                   // in-port-set, not-in-port-set
	kindNumberList                 // in-set, not-in-set over numbers
	kindStringList                 // in-set, not-in-set over strings
)

// metricInfo is what AWS documents of a Device Defender metric.
type metricInfo struct {
	kind kind
	// ml: ML Detect takes it (six cloud-side and seven device-side
	// metrics, and custom number metrics).
	ml bool
	// dimension: a TOPIC_FILTER dimension may narrow it.
	dimension bool
	// technique is the ATT&CK technique a violation points to, if any.
	technique string
}

// catalog lists AWS's metrics. Names outside it that do not start with
// "aws:" are custom metrics, typed by the behaviour's criteria.
var catalog = map[string]metricInfo{
	defender.MetricBytesOut:           {kind: kindNumber, ml: true},
	defender.MetricBytesIn:            {kind: kindNumber, ml: true},
	defender.MetricPacketsOut:         {kind: kindNumber, ml: true},
	defender.MetricPacketsIn:          {kind: kindNumber, ml: true},
	defender.MetricNumListeningTCP:    {kind: kindNumber, ml: true},
	defender.MetricNumListeningUDP:    {kind: kindNumber, ml: true},
	defender.MetricNumEstablishedTCP:  {kind: kindNumber, ml: true},
	defender.MetricDestinationIPs:     {kind: kindIPList},
	defender.MetricListeningTCPPorts:  {kind: kindPortList},
	defender.MetricListeningUDPPorts:  {kind: kindPortList},
	defender.MetricSourceIP:           {kind: kindIPList},
	defender.MetricAuthFailures:       {kind: kindNumber, ml: true, dimension: true, technique: "T1110"},
	defender.MetricConnectionAttempts: {kind: kindNumber, ml: true},
	defender.MetricDisconnects:        {kind: kindNumber, ml: true},
	defender.MetricDisconnectDuration: {kind: kindNumber},
	defender.MetricMessageByteSize:    {kind: kindNumber, ml: true, dimension: true},
	defender.MetricMessagesSent:       {kind: kindNumber, ml: true, dimension: true},
	defender.MetricMessagesReceived:   {kind: kindNumber, ml: true, dimension: true},
}

// operators maps each comparison operator to the kinds it applies to.
var operators = map[string][]kind{
	"less-than":           {kindNumber},
	"less-than-equals":    {kindNumber},
	"greater-than":        {kindNumber},
	"greater-than-equals": {kindNumber},
	"in-cidr-set":         {kindIPList},
	"not-in-cidr-set":     {kindIPList},
	"in-port-set":         {kindPortList},
	"not-in-port-set":     {kindPortList},
	"in-set":              {kindNumberList, kindStringList},
	"not-in-set":          {kindNumberList, kindStringList},
}

// statistics are the percentiles AWS accepts in statisticalThreshold.
var statistics = map[string]float64{
	"p0": 0, "p0.01": 0.0001, "p0.1": 0.001, "p1": 0.01, "p10": 0.1, "p50": 0.5,
	"p90": 0.9, "p99": 0.99, "p99.9": 0.999, "p99.99": 0.9999, "p100": 1,
}

// durations are the durationSeconds AWS accepts.
var durations = map[int]bool{300: true, 600: true, 900: true, 1800: true, 3600: true}

func (k kind) String() string {
	switch k {
	case kindNumber:
		return "number"
	case kindIPList:
		return "ip-address-list"
	case kindPortList:
		return "port-list"
	case kindNumberList:
		return "number-list"
	case kindStringList:
		return "string-list"
	}
	return "unknown"
}
