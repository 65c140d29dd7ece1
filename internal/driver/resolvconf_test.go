package driver

import "testing"

func TestResolvConf(t *testing.T) {
	host := []byte("# host\nnameserver 10.0.0.1\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0 trust-ad\n")
	cases := []struct {
		servers, search []string
		want            string
	}{
		{[]string{"169.254.170.2"}, nil, "# written by berth\nnameserver 169.254.170.2\nsearch corp.example\noptions edns0 trust-ad\n"},
		{[]string{"1.1.1.1", "8.8.8.8"}, []string{"a.test", "b.test"}, "# written by berth\nnameserver 1.1.1.1\nnameserver 8.8.8.8\nsearch a.test b.test\noptions edns0 trust-ad\n"},
		{nil, []string{"a.test"}, "# written by berth\nnameserver 10.0.0.1\nnameserver 10.0.0.2\nsearch a.test\noptions edns0 trust-ad\n"},
	}
	for _, c := range cases {
		if got := string(ResolvConf(c.servers, c.search, host)); got != c.want {
			t.Errorf("ResolvConf(%v, %v) = %q, want %q", c.servers, c.search, got, c.want)
		}
	}
}
