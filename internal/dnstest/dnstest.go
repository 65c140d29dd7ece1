// Package dnstest is a tiny DNS responder for tests: UDP, one question per
// message, A and SRV records from a fixed table, NXDOMAIN for other names.
// It exists so that tests need no DNS library.
package dnstest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SRV is an SRV record's data.
type SRV struct {
	Target           string
	Port             uint16
	Priority, Weight uint16
}

// Server answers queries on a UDP socket.
type Server struct {
	conn *net.UDPConn
	A    map[string]netip.Addr // fully qualified lower-case names ("svc.test.")
	SRVs map[string][]SRV

	mu      sync.Mutex
	queries []string
	wg      sync.WaitGroup
}

// Listen serves on addr ("169.254.170.2:53") with the records given.
func Listen(addr string, a map[string]netip.Addr, srv map[string][]SRV) (*Server, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	s := &Server{conn: c, A: a, SRVs: srv}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.conn.LocalAddr() }

// Close stops the server.
func (s *Server) Close() error {
	err := s.conn.Close()
	s.wg.Wait()
	return err
}

// Queries returns the names asked so far ("name TYPE").
func (s *Server) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.queries...)
}

func (s *Server) serve() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if out := s.answer(buf[:n]); out != nil {
			s.conn.WriteToUDP(out, from)
		}
	}
}

const (
	typeA    = 1
	typeAAAA = 28
	typeSRV  = 33
)

// answer builds the response to msg, nil for a malformed one.
func (s *Server) answer(msg []byte) []byte {
	if len(msg) < 12 || binary.BigEndian.Uint16(msg[4:6]) != 1 {
		return nil
	}
	name, end, ok := readName(msg, 12)
	if !ok || end+4 > len(msg) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(msg[end : end+2])
	question := msg[12 : end+4]
	lname := strings.ToLower(name)
	s.mu.Lock()
	s.queries = append(s.queries, lname+" "+typeName(qtype))
	s.mu.Unlock()

	out := make([]byte, 12, 512)
	copy(out, msg[:2])                      // ID
	out[2] = 0x80 | msg[2]&0x01 | 0x04      // QR, RD copied, AA
	out[3] = 0x80                           // RA
	binary.BigEndian.PutUint16(out[4:6], 1) // QDCOUNT
	out = append(out, question...)
	var answers int
	_, knownA := s.A[lname]
	_, knownSRV := s.SRVs[lname]
	switch {
	case qtype == typeA && knownA:
		ip := s.A[lname].As4()
		out = appendRR(out, typeA, ip[:])
		answers++
	case qtype == typeSRV && knownSRV:
		for _, r := range s.SRVs[lname] {
			data := binary.BigEndian.AppendUint16(nil, r.Priority)
			data = binary.BigEndian.AppendUint16(data, r.Weight)
			data = binary.BigEndian.AppendUint16(data, r.Port)
			data = appendName(data, r.Target)
			out = appendRR(out, typeSRV, data)
			answers++
		}
	case knownA || knownSRV:
		// The name exists: no data of this type (NOERROR, no answers).
	default:
		out[3] |= 3 // NXDOMAIN
	}
	binary.BigEndian.PutUint16(out[6:8], uint16(answers))
	return out
}

func appendRR(out []byte, typ uint16, data []byte) []byte {
	out = append(out, 0xc0, 12) // the question's name
	out = binary.BigEndian.AppendUint16(out, typ)
	out = binary.BigEndian.AppendUint16(out, 1) // IN
	out = binary.BigEndian.AppendUint32(out, 5) // TTL
	out = binary.BigEndian.AppendUint16(out, uint16(len(data)))
	return append(out, data...)
}

func appendName(out []byte, name string) []byte {
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if l == "" {
			continue
		}
		out = append(out, byte(len(l)))
		out = append(out, l...)
	}
	return append(out, 0)
}

// readName reads an uncompressed name at off: the name with a trailing dot
// and the offset after it.
func readName(msg []byte, off int) (string, int, bool) {
	var b strings.Builder
	for {
		if off >= len(msg) {
			return "", 0, false
		}
		n := int(msg[off])
		off++
		if n == 0 {
			break
		}
		if n&0xc0 != 0 || off+n > len(msg) {
			return "", 0, false
		}
		b.Write(msg[off : off+n])
		b.WriteByte('.')
		off += n
	}
	if b.Len() == 0 {
		return ".", off, true
	}
	return b.String(), off, true
}

func typeName(t uint16) string {
	switch t {
	case typeA:
		return "A"
	case typeAAAA:
		return "AAAA"
	case typeSRV:
		return "SRV"
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// QueryA asks the server at the other end of c (a UDP connection) for
// name's A record and returns the first address of the answer.
func QueryA(c net.Conn, name string, timeout time.Duration) (netip.Addr, error) {
	msg := []byte{0xbe, 0x27, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	msg = appendName(msg, name)
	msg = binary.BigEndian.AppendUint16(msg, typeA)
	msg = binary.BigEndian.AppendUint16(msg, 1)
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(msg); err != nil {
		return netip.Addr{}, err
	}
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		return netip.Addr{}, err
	}
	resp := buf[:n]
	if n < 12 || resp[0] != 0xbe || resp[1] != 0x27 {
		return netip.Addr{}, errors.New("not an answer to the query")
	}
	if rcode := resp[3] & 0x0f; rcode != 0 {
		return netip.Addr{}, fmt.Errorf("rcode %d", rcode)
	}
	if binary.BigEndian.Uint16(resp[6:8]) == 0 || n < 4 {
		return netip.Addr{}, errors.New("no answer")
	}
	// The answer is the responder's: one A record, last in the message.
	a, _ := netip.AddrFromSlice(resp[n-4:])
	return a, nil
}
