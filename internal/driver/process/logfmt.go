package process

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"berth.dev/berth/internal/driver"
)

// logTimeLayout is RFC 3339 with fixed-width nanoseconds, so records sort
// and parse alike.
const logTimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// maxLineBytes is where the shim splits a long line into pieces.
const maxLineBytes = 16 << 10

// appendRecord appends one log record (with its newline) to b.
func appendRecord(b []byte, t time.Time, stream string, partial bool, text []byte) []byte {
	b = t.UTC().AppendFormat(b, logTimeLayout)
	b = append(b, ' ')
	b = append(b, stream...)
	if partial {
		b = append(b, " P "...)
	} else {
		b = append(b, " F "...)
	}
	b = append(b, text...)
	return append(b, '\n')
}

var errBadRecord = errors.New("malformed log record")

// parseRecord parses one record without its newline. The returned text is a
// copy.
func parseRecord(rec []byte) (driver.LogLine, bool, error) {
	ts, rest, ok := bytes.Cut(rec, []byte{' '})
	if !ok {
		return driver.LogLine{}, false, errBadRecord
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok || (string(stream) != "stdout" && string(stream) != "stderr") {
		return driver.LogLine{}, false, errBadRecord
	}
	flag, text, ok := bytes.Cut(rest, []byte{' '})
	if !ok || (string(flag) != "F" && string(flag) != "P") {
		return driver.LogLine{}, false, errBadRecord
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return driver.LogLine{}, false, fmt.Errorf("%w: %v", errBadRecord, err)
	}
	return driver.LogLine{Time: t, Stream: string(stream), Text: bytes.Clone(text)}, string(flag) == "P", nil
}
