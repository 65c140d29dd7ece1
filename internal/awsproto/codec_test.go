package awsproto

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"math"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

type color string

type item struct {
	Name  *string `query:"Name" xml:"Name"`
	Count int32   `query:"Count" xml:"Count"`
}

type nested struct {
	Flag *bool    `query:"Flag" xml:"Flag"`
	Tags []string `query:"Tags" xml:"Tags>member"`
}

// sample is a representative shape: every kind the codec knows.
type sample struct {
	S     string            `query:"S" xml:"S"`
	P     *string           `query:"P" xml:"P"`
	E     color             `query:"E" xml:"E"`
	I32   int32             `query:"I32" xml:"I32"`
	I64   *int64            `query:"I64" xml:"I64"`
	B     bool              `query:"B" xml:"B"`
	F     *float64          `query:"F" xml:"F"`
	T     *time.Time        `query:"T" xml:"T"`
	Blob  []byte            `query:"Blob" xml:"-"`
	List  []string          `query:"List" xml:"List>member"`
	Items []item            `query:"Items" xml:"Items>member"`
	Attrs map[string]string `query:"Attrs" xml:"-"`
	Sub   *nested           `query:"Sub" xml:"Sub"`
	Skip  string            `xml:"-"`
}

func ptr[T any](v T) *T { return &v }

func sampleFrom(s string, i int64, b bool, f float64, n uint8) sample {
	t := time.Unix(i%(1<<33), (i%1000)*int64(time.Millisecond)).UTC()
	v := sample{S: s, E: color(s), I32: int32(i), B: b, T: &t}
	if n&1 != 0 {
		v.P, v.I64 = ptr(s+"p"), ptr(i)
	}
	if n&2 != 0 && !math.IsNaN(f) && !math.IsInf(f, 0) {
		v.F = ptr(f)
	}
	if n&4 != 0 {
		v.List = []string{}
		for j := range int(n>>4) % 4 {
			v.List = append(v.List, strings.Repeat(s, j))
		}
		v.Blob = []byte(s)
	}
	if n&8 != 0 {
		v.Items = []item{{Name: ptr(s), Count: int32(n)}, {Count: -1}}
		v.Attrs = map[string]string{s: "v", s + ".k": s}
		v.Sub = &nested{Flag: ptr(b), Tags: []string{s}}
	}
	if n&64 != 0 {
		v.Sub = &nested{}
	}
	return v
}

func TestQueryRoundTrip(t *testing.T) {
	v := sampleFrom("a b&c", 1700000000123, true, 2.5, 0x3f)
	form, err := EncodeQuery(&v)
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("Items.member.2.Count") != "-1" || form.Get("Attrs.entry.1.key") != "a b&c" || form.Get("Sub.Tags.member.1") != "a b&c" {
		t.Fatalf("form: %v", form)
	}
	var got sample
	if err := DecodeQuery(form, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, v) {
		t.Fatalf("got %+v, want %+v", got, v)
	}
	var empty sample
	if err := DecodeQuery(url.Values{"List": {""}, "Attrs": {""}}, &empty); err != nil || empty.List == nil || len(empty.List) != 0 || empty.Attrs == nil {
		t.Fatalf("empty list: got %#v, %v", empty, err)
	}
	for _, bad := range []url.Values{
		{"Nope": {"1"}},
		{"I32": {"1.5"}},
		{"I32": {"99999999999"}},
		{"B": {"yes"}},
		{"T": {"yesterday"}},
		{"Blob": {"!!"}},
		{"List.member.0": {"a"}},
		{"List.member.01": {"a"}},
		{"List.member.1": {"a"}, "List.member.3": {"c"}},
		{"List.member.1001": {"a"}},
		{"List.entry.1": {"a"}},
		{"S": {"a", "b"}},
		{"S.x": {"a"}},
		{"Attrs.entry.1.key": {"a"}},
		{"Sub.Nope": {"a"}},
		{"F": {"0x10"}},
	} {
		var s sample
		err := DecodeQuery(bad, &s)
		e, ok := err.(*Error)
		if !ok || e.Code != CodeValidation {
			t.Errorf("DecodeQuery(%v): got %v, want a ValidationError", bad, err)
		}
	}
}

// FuzzDecodeQuery: any form decodes without a panic, and what EncodeQuery
// writes of a representative value decodes back to it.
func FuzzDecodeQuery(f *testing.F) {
	f.Add("Action=X&List.member.1=a&Items.member.1.Name=n&Attrs.entry.1.key=k&Attrs.entry.1.value=v", "a", int64(5), true, 1.5, uint8(0xff))
	f.Add("Sub=&List=&T=2026-01-01T00:00:00Z&F=NaN", "", int64(-1), false, math.Inf(1), uint8(4))
	f.Fuzz(func(t *testing.T, raw, s string, i int64, b bool, fl float64, n uint8) {
		if form, err := url.ParseQuery(raw); err == nil {
			var v sample
			_ = DecodeQuery(form, &v)
		}
		v := sampleFrom(s, i, b, fl, n)
		form, err := EncodeQuery(v)
		if err != nil {
			t.Fatal(err)
		}
		// Through the wire: the encoded form parses back to the same.
		form, err = url.ParseQuery(form.Encode())
		if err != nil {
			t.Fatal(err)
		}
		var got sample
		if err := DecodeQuery(form, &got); err != nil {
			t.Fatalf("decode %v: %v", form, err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Fatalf("got %+v, want %+v (form %v)", got, v, form)
		}
	})
}

// xmlSafe is what XML can carry of s.
func xmlSafe(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		if size == 1 && r == utf8.RuneError {
			b.WriteRune(utf8.RuneError)
		} else if r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF {
			b.WriteRune(r)
		} else {
			b.WriteRune(utf8.RuneError)
		}
	}
	return b.String()
}

type parsed struct {
	Result sample `xml:"OpResult"`
	ID     string `xml:"ResponseMetadata>RequestId"`
}

// FuzzEncodeXML: the answer is always well-formed XML that encoding/xml
// reads back to the same values (text XML cannot carry replaced).
func FuzzEncodeXML(f *testing.F) {
	f.Add("a<b>&\"'", int64(5), true, 1.5, uint8(0xff), "id")
	f.Add("\x00\xff\r\n\t]]>", int64(-1), false, 1e300, uint8(0x0f), "\x01")
	f.Fuzz(func(t *testing.T, s string, i int64, b bool, fl float64, n uint8, id string) {
		v := sampleFrom(s, i, b, fl, n)
		var buf bytes.Buffer
		if err := writeQueryResponse(&buf, "http://example.com/doc/2015-12-01/", "Op", id, &v); err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
		for {
			_, err := dec.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("not well-formed (%v): %s", err, buf.Bytes())
				}
				break
			}
		}
		var p parsed
		if err := xml.Unmarshal(buf.Bytes(), &p); err != nil {
			t.Fatalf("%v: %s", err, buf.Bytes())
		}
		want := v
		want.S, want.E = xmlSafe(v.S), color(xmlSafe(string(v.E)))
		if v.P != nil {
			want.P = ptr(xmlSafe(*v.P))
		}
		for j := range want.List {
			want.List[j] = xmlSafe(want.List[j])
		}
		if len(want.List) == 0 {
			want.List = nil
		}
		if want.Items != nil {
			want.Items = []item{{Name: ptr(xmlSafe(s)), Count: int32(n)}, {Count: -1}}
		}
		if want.Sub != nil {
			sub := *want.Sub
			if sub.Tags != nil {
				sub.Tags = []string{xmlSafe(s)}
			}
			want.Sub = &sub
		}
		want.Blob, want.Attrs = nil, nil
		if want.T != nil {
			want.T = ptr(want.T.Truncate(time.Millisecond))
		}
		if !reflect.DeepEqual(p.Result, want) || p.ID != xmlSafe(id) {
			t.Fatalf("got %+v %q, want %+v %q\n%s", p.Result, p.ID, want, xmlSafe(id), buf.Bytes())
		}
		// Blob and map, which encoding/xml does not read into those types.
		if v.Blob != nil && !bytes.Contains(buf.Bytes(), []byte("<Blob>"+base64.StdEncoding.EncodeToString(v.Blob)+"</Blob>")) {
			t.Fatalf("blob missing: %s", buf.Bytes())
		}
	})
}

func TestQueryResponseShape(t *testing.T) {
	var buf bytes.Buffer
	if err := writeQueryResponse(&buf, "ns", "Op", "rid", &struct{}{}); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != `<OpResponse xmlns="ns"><OpResult/><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></OpResponse>` {
		t.Fatalf("empty output: %s", got)
	}
	buf.Reset()
	_ = writeQueryResponse(&buf, "ns", "Op", "rid", nil)
	if got := buf.String(); got != `<OpResponse xmlns="ns"><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></OpResponse>` {
		t.Fatalf("no output: %s", got)
	}
	buf.Reset()
	tm := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	_ = writeQueryResponse(&buf, "ns", "Op", "rid", &sample{T: &tm, List: []string{}, Attrs: map[string]string{"b": "2", "a": "1"}})
	for _, want := range []string{"<T>2026-01-02T02:04:05.000Z</T>", "<List/>", "<Attrs><entry><key>a</key><value>1</value></entry><entry><key>b</key>", "<B>false</B>"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("missing %s in %s", want, buf.String())
		}
	}
}
