package logsapi

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"berth.dev/berth/internal/logstore"
)

// Reading tokens name a position in the read order (logstore.Key): the
// last event a page returned, excluded from the next page, and the
// query's identity (a hash), so that a token is refused by another query.
//
// GetLogEvents: "f/" (forward) or "b/" (backward) and 56 digits, as
// CloudWatch's: 20 of the timestamp (shifted by 2^63 to be unsigned; 0
// names no position: the head forward, the tail backward), 20 of the
// sequence, 16 of the identity (the group and stream).
//
// FilterLogEvents: base64url of "2/TIMESTAMP/SEQ/IDENTITY/STREAM".

// identity is a query's 16-digit hash.
func identity(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64() % 1e16
}

func getToken(forward bool, pos *logstore.Key, id uint64) *string {
	dir, ts, seq := "b/", uint64(0), uint64(0)
	if forward {
		dir = "f/"
	}
	if pos != nil {
		ts, seq = uint64(pos.Timestamp)^(1<<63), pos.Seq
	}
	return ptr(fmt.Sprintf("%s%020d%020d%016d", dir, ts, seq, id))
}

// parseGetToken reads a GetLogEvents token of the stream whose identity
// is id; pos is nil for no position.
func parseGetToken(tok, stream string, id uint64) (forward bool, pos *logstore.Key, err error) {
	dir, num, ok := strings.Cut(tok, "/")
	if !ok || (dir != "f" && dir != "b") || len(num) != 56 || strings.TrimLeft(num, "0123456789") != "" {
		return false, nil, invalid(MsgInvalidNextToken)
	}
	ts, err1 := strconv.ParseUint(num[:20], 10, 64)
	seq, err2 := strconv.ParseUint(num[20:40], 10, 64)
	tid, err3 := strconv.ParseUint(num[40:], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || tid != id {
		return false, nil, invalid(MsgInvalidNextToken)
	}
	if ts != 0 {
		pos = &logstore.Key{Timestamp: int64(ts ^ (1 << 63)), Stream: stream, Seq: seq}
	}
	return dir == "f", pos, nil
}

func filterToken(pos logstore.Key, id uint64) *string {
	s := fmt.Sprintf("2/%d/%d/%d/%s", pos.Timestamp, pos.Seq, id, pos.Stream)
	return ptr(base64.RawURLEncoding.EncodeToString([]byte(s)))
}

// parseFilterToken reads a FilterLogEvents token of the query whose
// identity is id.
func parseFilterToken(tok string, id uint64) (logstore.Key, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		f := strings.SplitN(string(b), "/", 5)
		if len(f) == 5 && f[0] == "2" {
			ts, err1 := strconv.ParseInt(f[1], 10, 64)
			seq, err2 := strconv.ParseUint(f[2], 10, 64)
			tid, err3 := strconv.ParseUint(f[3], 10, 64)
			if err1 == nil && err2 == nil && err3 == nil && tid == id {
				return logstore.Key{Timestamp: ts, Stream: f[4], Seq: seq}, nil
			}
		}
	}
	return logstore.Key{}, invalid(MsgInvalidNextToken)
}
