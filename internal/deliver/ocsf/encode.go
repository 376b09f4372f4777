package ocsf

import (
	"bytes"
	"encoding/json"
	"errors"
	"runtime/debug"
	"strconv"
	"sync"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

// SchemaVersion is the OCSF version the events follow (metadata.version).
const SchemaVersion = "1.3.0"

// ErrMetrics is the encoder's answer to a device metric: OCSF has no
// class for a device's measurements (Device Inventory Info, 5001, is an
// inventory record), so an ocsf output carries findings and sessions.
var ErrMetrics = errors.New("ocsf: device metrics have no OCSF class; route only findings and sessions to an ocsf output")

// Encoder writes findings as Detection Finding (2004) events and
// sessions as Network Activity (4001) events, one JSON object each.
type Encoder struct {
	vendor, version string
	unmapped        bool
	bufs            sync.Pool
}

// NewEncoder is the encoder of an output configured by c.
func NewEncoder(c Config) *Encoder {
	v := c.ProductVersion
	if v == "" {
		v = buildVersion()
	}
	return &Encoder{vendor: c.VendorName, version: v, unmapped: c.Unmapped,
		bufs: sync.Pool{New: func() any { return new(bytes.Buffer) }}}
}

// buildVersion is the module version the binary was built from, as
// `go install …@v1.2.3` records it; "dev" for a local build.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func (e *Encoder) metadata(log, tenant string) metadata {
	return metadata{
		Version:   SchemaVersion,
		Product:   product{Name: "Osprey", VendorName: e.vendor, Version: e.version},
		TenantUID: tenant,
		LogName:   log,
	}
}

// Encode appends the event's OCSF JSON to dst. The first key is always
// "time" (Unix milliseconds).
func (e *Encoder) Encode(dst []byte, ev *deliver.Event) ([]byte, error) {
	var v any
	switch ev.Kind {
	case deliver.KindSession:
		v = e.session(ev.Session)
	case deliver.KindFinding:
		f, err := e.finding(ev.Finding)
		if err != nil {
			return dst, err
		}
		v = f
	case deliver.KindMetric:
		return dst, ErrMetrics
	default:
		return dst, errors.New("ocsf: unknown event kind " + strconv.Itoa(int(ev.Kind)))
	}
	buf := e.bufs.Get().(*bytes.Buffer)
	defer e.bufs.Put(buf)
	buf.Reset()
	je := json.NewEncoder(buf)
	je.SetEscapeHTML(false)
	if err := je.Encode(v); err != nil {
		return dst, err
	}
	return append(dst, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...), nil
}

// eventTime reads the "time" an encoded event starts with; ok is false
// for anything else.
func eventTime(data []byte) (int64, bool) {
	const prefix = `{"time":`
	if !bytes.HasPrefix(data, []byte(prefix)) {
		return 0, false
	}
	rest := data[len(prefix):]
	end := bytes.IndexAny(rest, ",}")
	if end <= 0 {
		return 0, false
	}
	t, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	return t, err == nil
}

// className names the OCSF class of a record's kind in paths and keys.
func className(k deliver.Kind) string {
	switch k {
	case deliver.KindSession:
		return "network_activity"
	case deliver.KindFinding:
		return "detection_finding"
	}
	return "unknown"
}

// classUID is the OCSF class_uid of a record's kind.
func classUID(k deliver.Kind) int {
	switch k {
	case deliver.KindSession:
		return classNetworkActivity
	case deliver.KindFinding:
		return classDetectionFinding
	}
	return 0
}

var _ deliver.Encoder = (*Encoder)(nil)
