package logsapi

import (
	"testing"

	"berth.dev/berth/internal/logstore"
)

// Tokens read back what they were made from, and the decoders refuse
// (never panic on) anything else; a token of another query is refused.
func FuzzParseGetToken(f *testing.F) {
	id := identity("g", "s")
	f.Add(*getToken(true, &logstore.Key{Timestamp: 1_700_000_000_000, Stream: "s", Seq: 42}, id))
	f.Add(*getToken(false, &logstore.Key{Timestamp: -5, Stream: "s"}, id))
	f.Add(*getToken(true, nil, id))
	f.Add("f/00000000000000000000000000000000000000000000000000000000")
	f.Add("x/1")
	f.Fuzz(func(t *testing.T, tok string) {
		fwd, pos, err := parseGetToken(tok, "s", id)
		if err != nil {
			return
		}
		fwd2, pos2, err := parseGetToken(*getToken(fwd, pos, id), "s", id)
		if err != nil || fwd2 != fwd || (pos == nil) != (pos2 == nil) || (pos != nil && *pos != *pos2) {
			t.Fatalf("%q: %v %+v, again %v %+v %v", tok, fwd, pos, fwd2, pos2, err)
		}
		if _, _, err := parseGetToken(tok, "s", identity("g", "other")); err == nil {
			t.Fatalf("%q taken by another stream", tok)
		}
	})
}

func FuzzParseFilterToken(f *testing.F) {
	id := identity("g", "names", "a/b")
	f.Add(*filterToken(logstore.Key{Timestamp: 1_700_000_000_000, Stream: "a/b", Seq: 7}, id))
	f.Add(*filterToken(logstore.Key{Timestamp: -1, Stream: ""}, id))
	f.Add("!!")
	f.Add("MTIvcw")
	f.Fuzz(func(t *testing.T, tok string) {
		pos, err := parseFilterToken(tok, id)
		if err != nil {
			return
		}
		pos2, err := parseFilterToken(*filterToken(pos, id), id)
		if err != nil || pos2 != pos {
			t.Fatalf("%q: %+v, again %+v %v", tok, pos, pos2, err)
		}
		if _, err := parseFilterToken(tok, identity("g", "other")); err == nil {
			t.Fatalf("%q taken by another query", tok)
		}
	})
}
