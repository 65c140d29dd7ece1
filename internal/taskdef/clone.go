package taskdef

import "reflect"

// deepCopy returns a copy of v that shares no pointer, slice or map with it.
// It walks the value with reflection so that members added to the shapes are
// copied without a change here.
func deepCopy[T any](v T) T {
	out := copyValue(reflect.ValueOf(&v).Elem())
	return out.Interface().(T)
}

func copyValue(v reflect.Value) reflect.Value {
	out := reflect.New(v.Type()).Elem()
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return out
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(copyValue(v.Elem()))
		out.Set(p)
	case reflect.Slice:
		if v.IsNil() {
			return out
		}
		s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			s.Index(i).Set(copyValue(v.Index(i)))
		}
		out.Set(s)
	case reflect.Map:
		if v.IsNil() {
			return out
		}
		m := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			m.SetMapIndex(copyValue(iter.Key()), copyValue(iter.Value()))
		}
		out.Set(m)
	case reflect.Struct:
		// Unexported fields (none in the request shapes) are copied by value.
		out.Set(v)
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				out.Field(i).Set(copyValue(v.Field(i)))
			}
		}
	case reflect.Interface:
		if v.IsNil() {
			return out
		}
		out.Set(copyValue(v.Elem()))
	default:
		out.Set(v)
	}
	return out
}
