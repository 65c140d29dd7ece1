package logstore

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"sync"
)

// Reading records: a segment is read in chunks of up to readChunk bytes
// into one buffer (pooled), and records are parsed in place. The buffer
// grows, up to twice maxRecord, only when a record does not fit. A
// record's message aliases the buffer until the next call.

const (
	maxRecord = 8 + 16 + MaxBatchBytes
	readChunk = 256 << 10
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, readChunk); return &b }}

type record struct {
	ts, ingest int64
	msg        []byte // aliases the reader's buffer
	size       int    // bytes on disk, header included
}

type recordReader struct {
	r          io.Reader
	bp         *[]byte
	start, end int // unparsed bytes: buf[start:end]
	eof        bool
}

func newRecordReader(r io.Reader) *recordReader {
	return &recordReader{r: r, bp: bufPool.Get().(*[]byte)}
}

// release returns the buffer; the reader is unusable afterwards.
func (rr *recordReader) release() {
	if rr.bp != nil {
		bufPool.Put(rr.bp)
		rr.bp = nil
	}
}

// next returns the next whole record, io.EOF at a clean end, errTorn at a
// record cut short or corrupt, or the read error.
func (rr *recordReader) next() (record, error) {
	buf := *rr.bp
	for {
		avail := rr.end - rr.start
		if avail >= 8 {
			h := buf[rr.start:]
			n := int(binary.LittleEndian.Uint32(h))
			if n < 16 || n > MaxBatchBytes+16 {
				return record{}, errTorn
			}
			if avail >= 8+n {
				body := h[8 : 8+n]
				if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(h[4:]) {
					return record{}, errTorn
				}
				rr.start += 8 + n
				return record{ts: int64(binary.LittleEndian.Uint64(body)), ingest: int64(binary.LittleEndian.Uint64(body[8:])),
					msg: body[16:], size: 8 + n}, nil
			}
		}
		if rr.eof {
			if avail == 0 {
				return record{}, io.EOF
			}
			return record{}, errTorn
		}
		if rr.start > 0 {
			rr.end = copy(buf, buf[rr.start:rr.end])
			rr.start = 0
		}
		if avail >= 8 {
			if need := 8 + int(binary.LittleEndian.Uint32(buf)); need > len(buf) {
				grown := make([]byte, max(need, 2*len(buf)))
				rr.end = copy(grown, buf[:rr.end])
				*rr.bp, buf = grown, grown
			}
		}
		m, err := rr.r.Read(buf[rr.end:])
		rr.end += m
		if errors.Is(err, io.EOF) {
			rr.eof = true
		} else if err != nil {
			return record{}, err
		}
	}
}

var errTorn = errors.New("torn record")

// readRecords calls fn for each whole record of r (Seq relative to the
// segment, Message copied) and returns errTorn at a record cut short or
// corrupt.
func readRecords(r io.Reader, fn func(ev Event, size int) bool) error {
	rr := newRecordReader(r)
	defer rr.release()
	for i := uint64(0); ; i++ {
		rec, err := rr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !fn(Event{Timestamp: rec.ts, Ingestion: rec.ingest, Message: string(rec.msg), Seq: i}, rec.size) {
			return nil
		}
	}
}
