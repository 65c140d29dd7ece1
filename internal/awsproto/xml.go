package awsproto

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
)

// TimeLayout is how Query answers write timestamps (always UTC).
const TimeLayout = "2006-01-02T15:04:05.000Z"

var timeType = reflect.TypeFor[time.Time]()

// writeQueryResponse writes <OpResponse xmlns=ns><OpResult>out</OpResult>
// <ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></OpResponse>;
// a nil out has no result element.
func writeQueryResponse(b *bytes.Buffer, ns, op, id string, out any) error {
	fmt.Fprintf(b, `<%sResponse xmlns="`, op)
	escape(b, ns)
	b.WriteString(`">`)
	if v := reflect.ValueOf(out); v.IsValid() && !(v.Kind() == reflect.Pointer && v.IsNil()) {
		for v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return fmt.Errorf("awsproto: a Query result must be a struct, not %s", v.Type())
		}
		var inner bytes.Buffer
		if err := encodeFields(&inner, v); err != nil {
			return err
		}
		if inner.Len() == 0 {
			fmt.Fprintf(b, "<%sResult/>", op)
		} else {
			fmt.Fprintf(b, "<%sResult>", op)
			b.Write(inner.Bytes())
			fmt.Fprintf(b, "</%sResult>", op)
		}
	}
	b.WriteString("<ResponseMetadata><RequestId>")
	escape(b, id)
	fmt.Fprintf(b, "</RequestId></ResponseMetadata></%sResponse>", op)
	return nil
}

// writeQueryError writes an awsQuery ErrorResponse.
func writeQueryError(b *bytes.Buffer, ns string, e *Error, id string) {
	b.WriteString("<ErrorResponse")
	if ns != "" {
		b.WriteString(` xmlns="`)
		escape(b, ns)
		b.WriteString(`"`)
	}
	b.WriteString("><Error><Type>")
	if e.status() >= 500 {
		b.WriteString("Receiver")
	} else {
		b.WriteString("Sender")
	}
	b.WriteString("</Type><Code>")
	escape(b, e.Code)
	b.WriteString("</Code><Message>")
	escape(b, e.Message)
	b.WriteString("</Message></Error><RequestId>")
	escape(b, id)
	b.WriteString("</RequestId></ErrorResponse>")
}

// escape writes s as XML text; characters XML cannot carry (and invalid
// UTF-8) become U+FFFD.
func escape(b *bytes.Buffer, s string) { _ = xml.EscapeText(b, []byte(s)) }

// encodeFields writes the query-tagged fields of struct v in order.
func encodeFields(b *bytes.Buffer, v reflect.Value) error {
	for _, f := range fieldsOf(v.Type()) {
		if err := encodeValue(b, f.name, v.Field(f.index)); err != nil {
			return err
		}
	}
	return nil
}

// encodeValue writes <name>v</name>, nothing for a nil pointer, slice or map.
func encodeValue(b *bytes.Buffer, name string, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		if v.IsNil() {
			return nil
		}
	}
	if v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		return encodeValue(b, name, v.Elem())
	}
	if v.Kind() == reflect.Slice && v.Type().Elem().Kind() != reflect.Uint8 && v.Len() == 0 ||
		v.Kind() == reflect.Map && v.Len() == 0 {
		fmt.Fprintf(b, "<%s/>", name)
		return nil
	}
	fmt.Fprintf(b, "<%s>", name)
	switch {
	case v.Type() == timeType:
		b.WriteString(v.Interface().(time.Time).UTC().Format(TimeLayout))
	case v.Kind() == reflect.Struct:
		if err := encodeFields(b, v); err != nil {
			return err
		}
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		b.WriteString(base64.StdEncoding.EncodeToString(v.Bytes()))
	case v.Kind() == reflect.Slice:
		for i := range v.Len() {
			if err := encodeValue(b, "member", v.Index(i)); err != nil {
				return err
			}
		}
	case v.Kind() == reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("awsproto: map keys must be strings, not %s", v.Type().Key())
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, c reflect.Value) int {
			if a.String() < c.String() {
				return -1
			}
			if a.String() > c.String() {
				return 1
			}
			return 0
		})
		for _, k := range keys {
			b.WriteString("<entry><key>")
			escape(b, k.String())
			b.WriteString("</key>")
			if err := encodeValue(b, "value", v.MapIndex(k)); err != nil {
				return err
			}
			b.WriteString("</entry>")
		}
	default:
		s, err := scalarText(v)
		if err != nil {
			return err
		}
		escape(b, s)
	}
	fmt.Fprintf(b, "</%s>", name)
	return nil
}

// scalarText is the wire text of a string, number or bool.
func scalarText(v reflect.Value) (string, error) {
	switch v.Kind() {
	case reflect.String:
		return v.String(), nil
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10), nil
	case reflect.Float32, reflect.Float64:
		return formatFloat(v.Float(), v.Type().Bits()), nil
	}
	return "", fmt.Errorf("awsproto: cannot encode %s", v.Type())
}

func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.FormatFloat(f, 'e', -1, bits)
	}
	return strconv.FormatFloat(f, 'f', -1, bits)
}
