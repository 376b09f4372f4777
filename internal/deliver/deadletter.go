package deliver

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"time"
	"unicode/utf8"
)

// deadLetter appends records that will not be delivered to a JSON-lines
// file, one per line, with why:
//
//	{"time":"…","output":"soc","reason":"rejected","error":"webhook: 400 Bad Request: …",
//	 "attempts":1,"seq":42,"kind":"finding","queued":"…","record":{…}}
//
// record is the record itself when it is JSON, else a string when it is
// UTF-8 text (syslog, CEF), else record_base64 holds its bytes. The file
// is opened for each write and synced before the records leave the
// queue, so that none is lost between the two.
type deadLetter struct {
	path, output string
}

type deadEntry struct {
	Time     time.Time       `json:"time"`
	Output   string          `json:"output"`
	Reason   string          `json:"reason"`
	Error    string          `json:"error"`
	Attempts int             `json:"attempts"`
	Seq      uint64          `json:"seq"`
	Kind     Kind            `json:"kind"`
	Queued   time.Time       `json:"queued"`
	Record   json.RawMessage `json:"record,omitempty"`
	Base64   string          `json:"record_base64,omitempty"`
}

func (d *deadLetter) write(recs []Record, reason string, cause error, attempts int) error {
	f, err := os.OpenFile(d.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("dead letter: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	now := time.Now().UTC()
	for _, r := range recs {
		e := deadEntry{Time: now, Output: d.output, Reason: reason, Error: cause.Error(), Attempts: attempts,
			Seq: r.Seq, Kind: r.Kind, Queued: r.Queued.UTC()}
		switch {
		case json.Valid(r.Data):
			e.Record = r.Data
		case utf8.Valid(r.Data):
			e.Record, _ = json.Marshal(string(r.Data))
		default:
			e.Base64 = base64.StdEncoding.EncodeToString(r.Data)
		}
		if err = enc.Encode(&e); err != nil {
			break
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("dead letter %s: %w", d.path, err)
	}
	return nil
}
