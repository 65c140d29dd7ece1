package harness

import "slices"

// Median of xs (0 for none).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Collect is f of every x.
func Collect[T, V any](xs []T, f func(T) V) []V {
	out := make([]V, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

// Med is the median of f over xs.
func Med[T any](xs []T, f func(T) float64) float64 { return Median(Collect(xs, f)) }

// MedPos is the median of the positive values of f over xs (0 and below
// mean unknown).
func MedPos[T any](xs []T, f func(T) float64) float64 {
	var v []float64
	for _, x := range xs {
		if y := f(x); y > 0 {
			v = append(v, y)
		}
	}
	return Median(v)
}
