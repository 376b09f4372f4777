package defender

import (
	"encoding/json"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Reply is what AWS IoT publishes on …/accepted or …/rejected after a
// report, and what the HTTP endpoint answers:
//
//	{"thingName":"t1","reportId":1530304554,"status":"ACCEPTED","timestamp":1635801636023}
//	{"thingName":"t1","reportId":7,"status":"REJECTED",
//	 "statusDetails":{"ErrorCode":"InvalidPayload","ErrorMessage":"…"},"timestamp":1635802047699}
//
// reportId is left out when the report was too broken to give one;
// timestamp is in milliseconds since the epoch.
type Reply struct {
	ThingName     string         `json:"thingName"`
	ReportID      int64          `json:"reportId,omitempty"`
	Status        string         `json:"status"`
	StatusDetails *StatusDetails `json:"statusDetails,omitempty"`
	Timestamp     int64          `json:"timestamp"`
}

// StatusDetails says why a report was rejected.
type StatusDetails struct {
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

const (
	StatusAccepted = "ACCEPTED"
	StatusRejected = "REJECTED"
)

func accepted(thing string, id int64, at time.Time) Reply {
	return Reply{ThingName: thing, ReportID: id, Status: StatusAccepted, Timestamp: at.UnixMilli()}
}

func rejected(thing string, id int64, at time.Time, e *ReportError) Reply {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	return Reply{ThingName: thing, ReportID: id, Status: StatusRejected, Timestamp: at.UnixMilli(),
		StatusDetails: &StatusDetails{ErrorCode: e.Code, ErrorMessage: msg}}
}

// Encode returns the reply in the report's format: AWS answers a CBOR
// report in CBOR.
func (r *Reply) Encode(f Format) []byte {
	var b []byte
	if f == FormatCBOR {
		b, _ = cbor.Marshal(r) // strings and integers: cannot fail
	} else {
		b, _ = json.Marshal(r)
	}
	return b
}
