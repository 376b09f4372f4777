package deliver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Queue is an output's on-disk queue: records wait in it until the
// destination accepted them, across restarts. It is a bbolt database (a
// well-kept, crash-safe B+tree file with one writer at a time and an
// fsync per transaction) with one bucket whose keys are increasing
// sequence numbers, so its order is the order of arrival.
//
// It is bounded by records and bytes. When a Put would pass either
// bound, the oldest records not being sent are dropped to make room:
// findings are written again whenever they change, so the newest
// records hold the latest state of each finding, and the store keeps
// every one of them anyway; an outage long enough to fill the queue
// costs the oldest news, not the newest. A record larger than the whole
// queue is refused.
type Queue struct {
	db         *bolt.DB
	maxRecords int
	maxBytes   int64
	mu         sync.Mutex
	count      int
	bytes      int64
	oldest     time.Time // queued time of the first record; zero when empty
	inflight   uint64    // records up to this sequence are being sent
	notify     chan struct{}
}

var bucket = []byte("records")

// header is the value's prefix: queued time (Unix ns) and kind.
const header = 9

// OpenQueue opens or creates the queue file at path. Another process
// holding the file is an error after a second, not a wait.
func OpenQueue(path string, maxRecords int, maxBytes int64) (*Queue, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: time.Second,
		// The free list is rebuilt at open rather than written on every
		// commit: commits are the queue's hot path.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("open queue %s: %w", path, err)
	}
	q := &Queue{db: db, maxRecords: maxRecords, maxBytes: maxBytes, notify: make(chan struct{}, 1)}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 8 || len(v) < header {
				return fmt.Errorf("record %x: %d bytes, shorter than its header", k, len(v))
			}
			q.count++
			q.bytes += int64(len(k) + len(v))
			return nil
		})
	})
	if err == nil {
		err = db.View(func(tx *bolt.Tx) error { q.setOldest(tx.Bucket(bucket)); return nil })
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open queue %s: %w", path, err)
	}
	if q.count > 0 {
		q.notify <- struct{}{}
	}
	return q, nil
}

// setOldest reads the first record's queued time; q.mu is held or q is
// not shared yet.
func (q *Queue) setOldest(b *bolt.Bucket) {
	q.oldest = time.Time{}
	if k, v := b.Cursor().First(); k != nil && len(v) >= header {
		q.oldest = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
	}
}

// PutResult counts what a Put could not keep.
type PutResult struct {
	Dropped  int // older records dropped to make room (queue_full)
	TooLarge int // records larger than the queue itself, refused
}

// Put appends records, setting their Seq and, when zero, Queued. It
// returns once they are on disk.
func (q *Queue) Put(recs []Record) (PutResult, error) {
	var res PutResult
	if len(recs) == 0 {
		return res, nil
	}
	now := time.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	count, size := q.count, q.bytes
	err := q.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		count, size = q.count, q.bytes
		res = PutResult{}
		for i := range recs {
			r := &recs[i]
			n := int64(8 + header + len(r.Data))
			if n > q.maxBytes {
				res.TooLarge++
				continue
			}
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			r.Seq = seq
			if r.Queued.IsZero() {
				r.Queued = now
			}
			v := make([]byte, header+len(r.Data))
			binary.BigEndian.PutUint64(v, uint64(r.Queued.UnixNano()))
			v[8] = byte(r.Kind)
			copy(v[header:], r.Data)
			if err := b.Put(seqKey(seq), v); err != nil {
				return err
			}
			count++
			size += n
		}
		// Make room, oldest first, sparing the batch being sent.
		// Keys are collected first: deleting under a cursor may skip the
		// next key.
		var drop [][]byte
		c := b.Cursor()
		for k, v := c.Seek(seqKey(q.inflight + 1)); k != nil && (count > q.maxRecords || size > q.maxBytes); k, v = c.Next() {
			drop = append(drop, append([]byte(nil), k...))
			count--
			size -= int64(len(k) + len(v))
		}
		for _, k := range drop {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		res.Dropped = len(drop)
		q.setOldest(b)
		return nil
	})
	if err != nil {
		return PutResult{}, fmt.Errorf("queue: %w", err)
	}
	q.count, q.bytes = count, size
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return res, nil
}

// Peek returns up to maxRecords records or maxBytes bytes of data from
// the front of the queue (at least one record when any is queued), and
// marks them as being sent: Put will not drop them to make room. The
// delivery loop peeks again only once it has acknowledged them.
func (q *Queue) Peek(maxRecords int, maxBytes int64) ([]Record, error) {
	var out []Record
	var size int64
	err := q.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, v := c.First(); k != nil && len(out) < maxRecords; k, v = c.Next() {
			r, err := decodeRecord(k, v)
			if err != nil {
				return err
			}
			if len(out) > 0 && size+int64(len(r.Data)) > maxBytes {
				break
			}
			size += int64(len(r.Data))
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q.mu.Lock()
	q.inflight = 0
	if len(out) > 0 {
		q.inflight = out[len(out)-1].Seq
	}
	q.mu.Unlock()
	return out, nil
}

// decodeRecord reads a record as Put wrote it; the data is copied out
// of bbolt's memory map.
func decodeRecord(k, v []byte) (Record, error) {
	if len(k) != 8 || len(v) < header {
		return Record{}, errors.New("corrupt record: shorter than its header")
	}
	return Record{
		Seq:    binary.BigEndian.Uint64(k),
		Queued: time.Unix(0, int64(binary.BigEndian.Uint64(v))),
		Kind:   Kind(v[8]),
		Data:   append([]byte(nil), v[header:]...),
	}, nil
}

// Ack removes delivered (or dead-lettered) records; those already
// dropped are skipped.
func (q *Queue) Ack(recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	count, size := q.count, q.bytes
	err := q.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		count, size = q.count, q.bytes
		for _, r := range recs {
			k := seqKey(r.Seq)
			v := b.Get(k)
			if v == nil {
				continue
			}
			n := int64(len(k) + len(v))
			if err := b.Delete(k); err != nil {
				return err
			}
			count--
			size -= n
		}
		q.setOldest(b)
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	q.count, q.bytes = count, size
	return nil
}

// Release ends the in-flight mark of the last Peek: its records that
// were not acknowledged may again be dropped to make room.
func (q *Queue) Release() {
	q.mu.Lock()
	q.inflight = 0
	q.mu.Unlock()
}

// Ready receives a value after each Put (and at open when records wait).
func (q *Queue) Ready() <-chan struct{} { return q.notify }

// Len is the number of records queued and their size on disk.
func (q *Queue) Len() (records int, bytes int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.count, q.bytes
}

// Oldest is when the oldest queued record was queued; zero when empty.
func (q *Queue) Oldest() time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.oldest
}

// Close closes the file; what is queued stays for the next open.
func (q *Queue) Close() error { return q.db.Close() }

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}
