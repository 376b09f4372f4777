package defender

// Error codes of a rejected report's statusDetails.ErrorCode. AWS
// documents InvalidPayload; the others are Osprey's, for failures AWS
// reports without a published code. Device agents act on the status
// (ACCEPTED or REJECTED) and log the rest.
const (
	// CodeInvalidPayload: not JSON or CBOR, a field of the wrong type, a
	// required field missing or a value out of range.
	CodeInvalidPayload = "InvalidPayload"
	// CodeUnsupportedVersion: header.version is not 1.x.
	CodeUnsupportedVersion = "UnsupportedVersion"
	// CodeInvalidThingName: the thing name of the topic or URL is empty,
	// longer than 128 bytes or holds control characters.
	CodeInvalidThingName = "InvalidThingName"
	// CodeDuplicateReportID: report_id is not greater than the last one
	// accepted from the thing.
	CodeDuplicateReportID = "DuplicateReportId"
	// CodeThrottled: the thing reported again before min_report_interval.
	CodeThrottled = "Throttled"
	// CodeNotAuthorized: the sender may not report for this thing.
	CodeNotAuthorized = "NotAuthorized"
	// CodeInternalFailure: the store did not take the report's metrics;
	// sending it again with the same report_id may succeed.
	CodeInternalFailure = "InternalFailure"
)

// ReportError is why a report was rejected: the code and message of the
// rejected reply, and the field at fault in the names the report used.
type ReportError struct {
	Code    string
	Field   string
	Message string
}

func (e *ReportError) Error() string {
	if e.Field == "" {
		return e.Code + ": " + e.Message
	}
	return e.Code + ": " + e.Field + ": " + e.Message
}

func invalid(field, message string) *ReportError {
	return &ReportError{Code: CodeInvalidPayload, Field: field, Message: message}
}
