package driver

import "testing"

func TestCFSQuotaUs(t *testing.T) {
	for _, c := range []struct{ units, want int64 }{
		{0, -1}, {-3, -1}, {1, MinCFSQuotaUs}, {10, MinCFSQuotaUs}, {128, 12500}, {512, 50000}, {1024, 100000}, {4096, 400000},
	} {
		if got := CFSQuotaUs(c.units); got != c.want {
			t.Errorf("CFSQuotaUs(%d) = %d, want %d", c.units, got, c.want)
		}
	}
}

func TestCheckTaskLimits(t *testing.T) {
	for _, id := range []string{"", ".", "..", "a/b", "a b", string(make([]byte, 129))} {
		if (&TaskLimits{TaskID: id}).Check() == nil {
			t.Errorf("task ID %q accepted", id)
		}
	}
	if err := (&TaskLimits{TaskID: "0123abcd-ef.x_y"}).Check(); err != nil {
		t.Error(err)
	}
	if (&TaskLimits{TaskID: "t", MemoryMiB: -1}).Check() == nil {
		t.Error("negative memory accepted")
	}
}
