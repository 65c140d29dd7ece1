package policy

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/quick"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGolden parses every testdata/*.json (trust-* as trust policies,
// others as permission policies) and compares the summary or the
// MalformedPolicyDocument message with its .golden file.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) == 0 {
		t.Fatal("no test data")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			kind := Permission
			if strings.HasPrefix(filepath.Base(f), "trust-") {
				kind = Trust
			}
			var got string
			d, err := Parse(string(b), kind)
			if err != nil {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("error %T is no *Error", err)
				}
				got = "MalformedPolicyDocument: " + err.Error() + "\n"
			} else {
				got = d.Summary()
			}
			golden := strings.TrimSuffix(f, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

const acct = "123456789012"

func trust(t *testing.T, text string) *Document {
	t.Helper()
	d, err := Parse(text, Trust)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestTrustAllows(t *testing.T) {
	root := Caller{Account: acct, ARN: "arn:aws:iam::" + acct + ":root"}
	task := Caller{Account: acct, Service: "ecs-tasks.amazonaws.com"}
	session := Caller{Account: acct, ARN: "arn:aws:sts::" + acct + ":assumed-role/app/s1", RoleARN: "arn:aws:iam::" + acct + ":role/team/app"}
	cases := []struct {
		name, doc string
		caller    Caller
		want      bool
	}{
		{"service", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, task, true},
		{"service not root", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, root, false},
		{"root not service", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`, task, false},
		{"root arn", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`, root, true},
		{"account id", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:*"}]}`, root, true},
		{"other account", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}`, root, false},
		{"account covers sessions", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}`, session, true},
		{"role arn", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/team/app"},"Action":"sts:AssumeRole"}]}`, session, true},
		{"role arn not root", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/team/app"},"Action":"sts:AssumeRole"}]}`, root, false},
		{"star", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*"}]}`, root, true},
		{"deny wins", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}`, root, false},
		{"other action", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:TagSession"}]}`, root, false},
		{"not action", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","NotAction":"sts:TagSession"}]}`, root, true},
		{"case of action", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"STS:assumerole"}]}`, root, true},
		{"external id missing", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}`, root, false},
		{"unknown operator allow", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`, root, false},
		{"deny others", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`, root, true},
	}
	for _, c := range cases {
		if got := TrustAllows(trust(t, c.doc), c.caller, AssumeRoleAction); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	d := trust(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}`)
	root.Context = map[string]string{"sts:ExternalId": "x"}
	if !TrustAllows(d, root, AssumeRoleAction) {
		t.Error("external id matching: refused")
	}
}

// Property: a statement object and a one-element array of it parse alike;
// an Allow for a principal grants it, and adding a matching Deny revokes.
func TestProperties(t *testing.T) {
	f := func(name string, svc bool, sid uint8) bool {
		name = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' {
				return r
			}
			return -1
		}, strings.ToLower(name))
		if name == "" {
			name = "x"
		}
		principal := map[string]any{"AWS": "arn:aws:iam::" + acct + ":role/" + name}
		caller := Caller{Account: acct, ARN: "arn:aws:sts::" + acct + ":assumed-role/" + name + "/s", RoleARN: "arn:aws:iam::" + acct + ":role/" + name}
		if svc {
			principal = map[string]any{"Service": name + ".amazonaws.com"}
			caller = Caller{Account: acct, Service: name + ".amazonaws.com"}
		}
		st := map[string]any{"Sid": "S" + string(rune('a'+sid%26)), "Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
		one, _ := json.Marshal(map[string]any{"Version": Version2012, "Statement": st})
		arr, _ := json.Marshal(map[string]any{"Version": Version2012, "Statement": []any{st}})
		d1, err1 := Parse(string(one), Trust)
		d2, err2 := Parse(string(arr), Trust)
		if err1 != nil || err2 != nil || d1.Summary() != d2.Summary() {
			return false
		}
		if !TrustAllows(d1, caller, AssumeRoleAction) {
			return false
		}
		deny := map[string]any{"Effect": "Deny", "Principal": principal, "Action": "sts:*"}
		both, _ := json.Marshal(map[string]any{"Version": Version2012, "Statement": []any{st, deny}})
		d3, err := Parse(string(both), Trust)
		return err == nil && !TrustAllows(d3, caller, AssumeRoleAction)
	}
	if err := quick.Check(f, nil); err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, k := range []Kind{Permission, Trust, Resource} {
			d, err := Parse(text, k)
			if err != nil {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("error %T is no *Error", err)
				}
				continue
			}
			if len(d.Statements) == 0 {
				t.Fatal("a document without statements parsed")
			}
			_ = d.Summary()
			TrustAllows(d, Caller{Account: acct, ARN: "arn:aws:iam::" + acct + ":root"}, AssumeRoleAction)
		}
	})
}
