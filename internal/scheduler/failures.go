package scheduler

// failures collects failures in order, each (ARN, reason) pair once: one
// instance rejected twice for the same reason (StartTask naming it twice, or
// two unplaceable tasks) is one failure, as in ECS responses; it keeps the
// first detail.
type failures struct {
	list []Failure
	seen map[[2]string]bool
}

func (f *failures) add(arn, reason, detail string) {
	k := [2]string{arn, reason}
	if f.seen[k] {
		return
	}
	if f.seen == nil {
		f.seen = make(map[[2]string]bool)
	}
	f.seen[k] = true
	f.list = append(f.list, Failure{ARN: arn, Reason: reason, Detail: detail})
}
