package docker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"berth.dev/berth/internal/driver"
	"github.com/moby/moby/client"
)

// Logs streams the container's stdout and stderr from its start, in the
// order the engine stored them, one LogLine per line with the time the
// engine stamped on it. Lines are split on '\n', which is removed; a line the
// engine stored in parts (Docker splits lines over 16 KiB) is joined and
// keeps the time of its first part; a last line without '\n' is returned at
// the end of the stream. With follow the stream ends when the container has
// exited and its output is drained, or when ctx ends (Next then returns
// ctx's error). The container must use a log driver the engine can read back
// (json-file, local or journald; the default is json-file).
func (d *Driver) Logs(ctx context.Context, h driver.Handle, follow bool) (driver.LogStream, error) {
	body, err := d.cli.ContainerLogs(ctx, ref(h), client.ContainerLogsOptions{
		ShowStdout: true,
		ShowStderr: true,
		Timestamps: true,
		Follow:     follow,
	})
	if err != nil {
		return nil, classify("logs of", ref(h), err)
	}
	return &logStream{body: body, r: bufio.NewReaderSize(body, 32<<10), ctxErr: ctx.Err}, nil
}

// Stream bytes of the engine's multiplexed format (stdcopy).
const (
	streamStdout = 1
	streamStderr = 2
	streamSysErr = 3
	maxFrame     = 1 << 20
)

// logStream decodes the engine's multiplexed log stream: frames of an 8-byte
// header (stream byte, 3 zero bytes, big-endian length) and a payload
// "TIMESTAMP SP text".
type logStream struct {
	body    io.Closer
	r       *bufio.Reader
	ctxErr  func() error // the Logs context's Err
	partial [3]*driver.LogLine
	queue   []driver.LogLine
	err     error // sticky end of stream
}

// Next returns the next line, or io.EOF at the end of the output.
func (s *logStream) Next() (driver.LogLine, error) {
	for len(s.queue) == 0 {
		if s.err != nil {
			return driver.LogLine{}, s.err
		}
		if err := s.readFrame(); err != nil {
			if err := s.ctxErr(); err != nil {
				s.err = err
				continue
			}
			if errors.Is(err, io.EOF) {
				s.flushPartials()
			}
			s.err = err
		}
	}
	l := s.queue[0]
	s.queue = s.queue[1:]
	return l, nil
}

// Close ends the stream.
func (s *logStream) Close() error {
	return s.body.Close()
}

func (s *logStream) readFrame() error {
	var hdr [8]byte
	if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("logs: truncated frame header: %w", err)
		}
		return err
	}
	size := binary.BigEndian.Uint32(hdr[4:])
	if size > maxFrame {
		return fmt.Errorf("logs: frame of %d bytes exceeds %d", size, maxFrame)
	}
	payload := make([]byte, size)
	if _, err := io.ReadFull(s.r, payload); err != nil {
		return fmt.Errorf("logs: truncated frame: %w", err)
	}
	switch hdr[0] {
	case streamStdout, streamStderr:
		s.add(int(hdr[0]), payload)
	case streamSysErr:
		return fmt.Errorf("logs: engine error: %s", bytes.TrimSpace(payload))
	}
	return nil
}

// add splits a payload into lines, joining it to an earlier partial line.
func (s *logStream) add(stream int, payload []byte) {
	t, text := splitTimestamp(payload)
	name := "stdout"
	if stream == streamStderr {
		name = "stderr"
	}
	for len(text) > 0 {
		p := s.partial[stream]
		if p == nil {
			p = &driver.LogLine{Time: t, Stream: name}
			s.partial[stream] = p
		}
		i := bytes.IndexByte(text, '\n')
		if i < 0 {
			p.Text = append(p.Text, text...)
			return
		}
		p.Text = append(p.Text, text[:i]...)
		if p.Text == nil {
			p.Text = []byte{}
		}
		s.queue = append(s.queue, *p)
		s.partial[stream] = nil
		text = text[i+1:]
	}
}

// flushPartials returns unterminated last lines, oldest first.
func (s *logStream) flushPartials() {
	out, errl := s.partial[streamStdout], s.partial[streamStderr]
	if out != nil && errl != nil && errl.Time.Before(out.Time) {
		out, errl = errl, out
	}
	for _, p := range []*driver.LogLine{out, errl} {
		if p != nil {
			s.queue = append(s.queue, *p)
		}
	}
	s.partial = [3]*driver.LogLine{}
}

// splitTimestamp reads the engine's "RFC3339Nano SP" prefix. Without one,
// the time is zero and the payload is all text.
func splitTimestamp(payload []byte) (time.Time, []byte) {
	i := bytes.IndexByte(payload, ' ')
	if i <= 0 {
		return time.Time{}, payload
	}
	t, err := time.Parse(time.RFC3339Nano, string(payload[:i]))
	if err != nil {
		return time.Time{}, payload
	}
	return t, payload[i+1:]
}
