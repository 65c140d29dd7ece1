// Command awsgen writes the wire shapes of an AWS service from the
// aws-sdk-go-v2 client module of that service that go.mod pins.
//
// The SDK is generated from the AWS Smithy model; its types package holds the
// Go structure of every shape and its schemas package the exact member names.
// awsgen walks the shapes reachable from the operations berth serves and
// writes tagged structs (json tags for AWS JSON, query tags for AWS query),
// enums with their allowed values, one Request/Response pair per operation and
// the list of every operation of the model; for some services also the wire
// code, fault and HTTP status of every error shape. services.go configures
// each service.
//
// Usage: awsgen <service> <output file>, as run by the go:generate line of
// each generated package, e.g. `go generate ./internal/shape`.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

type field struct {
	goName string
	expr   ast.Expr
}

type sdk struct {
	svc     *service
	structs map[string][]field           // Go type name -> fields (types package and op inputs/outputs)
	enums   map[string][]string          // enum type -> values
	consts  map[string][][2]string       // enum type -> (const name, value)
	unions  map[string]bool              // interface (union) types
	shapes  map[string]bool              // shapes declared in the schemas package
	members map[string]map[string]string // schema shape -> lower(member) -> member name
	codes   map[string]string            // error shape -> wire code
	faults  map[string]string            // error shape -> "client" or "server"
	status  map[string]string            // error shape -> HTTP status the model gives it
	needed  map[string]bool
	order   []string
}

func main() {
	if len(os.Args) != 3 {
		fatal(fmt.Errorf("usage: awsgen <service> <output file>"))
	}
	svc, ok := services[os.Args[1]]
	if !ok {
		fatal(fmt.Errorf("unknown service %q", os.Args[1]))
	}
	mod, err := sdkModule(svc.module)
	if err != nil {
		fatal(err)
	}
	s := &sdk{
		svc:     svc,
		structs: map[string][]field{},
		enums:   map[string][]string{},
		consts:  map[string][][2]string{},
		unions:  map[string]bool{},
		shapes:  map[string]bool{},
		members: map[string]map[string]string{},
		codes:   map[string]string{},
		faults:  map[string]string{},
		status:  map[string]string{},
		needed:  map[string]bool{},
	}
	if err := s.load(mod.Dir); err != nil {
		fatal(err)
	}
	src, err := s.render(mod)
	if err != nil {
		fatal(err)
	}
	if err := os.WriteFile(os.Args[2], src, 0o644); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "awsgen:", err)
	os.Exit(1)
}

type module struct {
	Path, Version, Dir string
}

// sdkModule locates the pinned module in the module cache. Building awsgen
// (modules.go imports every configured module) has put it there.
func sdkModule(path string) (*module, error) {
	out, err := exec.Command("go", "list", "-m", "-json", path).Output()
	if err != nil {
		return nil, fmt.Errorf("locate sdk module %s: %w", path, err)
	}
	var m module
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("locate sdk module %s: %w", path, err)
	}
	if m.Dir == "" {
		return nil, fmt.Errorf("sdk module %s %s is not in the module cache (go mod download %s)", path, m.Version, path)
	}
	return &m, nil
}

var (
	addMember   = regexp.MustCompile(`^\s*([A-Za-z0-9]+)_([A-Za-z0-9]+) = ([A-Za-z0-9]+)\.AddMember\("([A-Za-z0-9]+)"`)
	schemaDecl  = regexp.MustCompile(`^var ([A-Za-z0-9_]+) = smithy\.NewSchema\(`)
	httpError   = regexp.MustCompile(`smithytraits\.HTTPError\{Code: ([0-9]+)\}`)
	queryStatus = regexp.MustCompile(`^\s*StatusCode: ([0-9]+)\}`) // of a smithytraits.AWSQueryError
	errorsFault = map[string]string{"FaultClient": "client", "FaultServer": "server"}
)

func (s *sdk) load(dir string) error {
	fset := token.NewFileSet()
	files := []string{filepath.Join(dir, "types", "types.go"), filepath.Join(dir, "types", "enums.go")}
	for _, op := range s.svc.ops {
		files = append(files, filepath.Join(dir, "api_op_"+op+".go"))
	}
	if s.svc.errors {
		files = append(files, filepath.Join(dir, "types", "errors.go"))
	}
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil && strings.HasSuffix(path, "enums.go") && os.IsNotExist(err) {
			continue // a model without enums (STS)
		}
		if err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		for _, decl := range f.Decls {
			if fd, ok := decl.(*ast.FuncDecl); ok {
				s.loadErrorMethod(fd)
				continue
			}
			gd, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			switch gd.Tok {
			case token.TYPE:
				for _, spec := range gd.Specs {
					ts := spec.(*ast.TypeSpec)
					switch t := ts.Type.(type) {
					case *ast.StructType:
						var fs []field
						for _, fl := range t.Fields.List {
							if len(fl.Names) == 0 || !ast.IsExported(fl.Names[0].Name) || fl.Names[0].Name == "ResultMetadata" {
								continue
							}
							fs = append(fs, field{goName: fl.Names[0].Name, expr: fl.Type})
						}
						s.structs[ts.Name.Name] = fs
					case *ast.InterfaceType:
						s.unions[ts.Name.Name] = true
					case *ast.Ident:
						if t.Name == "string" {
							s.enums[ts.Name.Name] = nil
						}
					}
				}
			case token.CONST:
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					id, ok := vs.Type.(*ast.Ident)
					if !ok || len(vs.Values) != 1 {
						continue
					}
					lit, ok := vs.Values[0].(*ast.BasicLit)
					if !ok {
						continue
					}
					v := strings.Trim(lit.Value, `"`)
					s.enums[id.Name] = append(s.enums[id.Name], v)
					s.consts[id.Name] = append(s.consts[id.Name], [2]string{vs.Names[0].Name, v})
				}
			}
		}
	}
	schemas, err := os.ReadFile(filepath.Join(dir, "schemas", "schemas.go"))
	if os.IsNotExist(err) {
		// Older modules (servicediscovery, STS) have no schemas package:
		// the member names are the keys their (de)serializers use.
		if err := s.loadSerializerMembers(dir); err != nil {
			return err
		}
		schemas = nil
	} else if err != nil {
		return fmt.Errorf("read schemas: %w", err)
	}
	current := "" // the schema whose declaration the line belongs to
	for _, line := range strings.Split(string(schemas), "\n") {
		if m := schemaDecl.FindStringSubmatch(line); m != nil {
			s.shapes[m[1]] = true
			current = m[1]
			continue
		}
		if m := httpError.FindStringSubmatch(line); m != nil && s.status[current] == "" {
			s.status[current] = m[1]
		}
		if m := queryStatus.FindStringSubmatch(line); m != nil && s.svc.protocol == awsQuery {
			s.status[current] = m[1]
		}
		m := addMember.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		shape, name := m[3], m[4]
		if s.members[shape] == nil {
			s.members[shape] = map[string]string{}
		}
		s.members[shape][strings.ToLower(name)] = name
	}
	if s.svc.errors {
		for n := range s.codes {
			if s.faults[n] == "" {
				return fmt.Errorf("error %s: no ErrorFault", n)
			}
		}
		if len(s.codes) == 0 {
			return fmt.Errorf("no error shapes in types/errors.go")
		}
	}
	return nil
}

var (
	serdeFunc = regexp.MustCompile(`^func awsAws(?:json1[01]|query)_(?:de)?serialize(?:Op)?Document([A-Za-z0-9]+)\(`)
	serKey    = regexp.MustCompile(`object\.Key\("([A-Za-z0-9]+)"\)`)
	deserKey  = regexp.MustCompile(`^\s*case (?:"([A-Za-z0-9]+)"|strings\.EqualFold\("([A-Za-z0-9]+)", t\.Name\.Local\)):`)
)

// loadSerializerMembers reads the wire member names of every structure from
// an AWS JSON module's serializers.go and deserializers.go: a document
// function per structure, whose object.Key("X") or case "X": lines name its
// members.
func (s *sdk) loadSerializerMembers(dir string) error {
	for _, file := range []string{"serializers.go", "deserializers.go"} {
		src, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return fmt.Errorf("read %s: %w", file, err)
		}
		current := ""
		for _, line := range strings.Split(string(src), "\n") {
			if m := serdeFunc.FindStringSubmatch(line); m != nil {
				current = s.schemaName(m[1])
				s.shapes[current] = true
				continue
			}
			if strings.HasPrefix(line, "func ") {
				current = ""
				continue
			}
			if current == "" {
				continue
			}
			m := serKey.FindStringSubmatch(line)
			if m == nil {
				m = deserKey.FindStringSubmatch(line)
			}
			if m == nil {
				continue
			}
			name := m[1]
			if name == "" && len(m) > 2 {
				name = m[2]
			}
			if s.members[current] == nil {
				s.members[current] = map[string]string{}
			}
			s.members[current][strings.ToLower(name)] = name
		}
	}
	return nil
}

// loadErrorMethod records the wire code an error type's ErrorCode method
// returns when not overridden, and the fault its ErrorFault method returns.
func (s *sdk) loadErrorMethod(fd *ast.FuncDecl) {
	if fd.Recv == nil || len(fd.Recv.List) != 1 || fd.Body == nil {
		return
	}
	star, ok := fd.Recv.List[0].Type.(*ast.StarExpr)
	if !ok {
		return
	}
	recv, ok := star.X.(*ast.Ident)
	if !ok {
		return
	}
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		ret, ok := n.(*ast.ReturnStmt)
		if !ok || len(ret.Results) != 1 {
			return true
		}
		switch fd.Name.Name {
		case "ErrorCode":
			if lit, ok := ret.Results[0].(*ast.BasicLit); ok && lit.Kind == token.STRING && s.codes[recv.Name] == "" {
				s.codes[recv.Name] = strings.Trim(lit.Value, `"`)
			}
		case "ErrorFault":
			if sel, ok := ret.Results[0].(*ast.SelectorExpr); ok {
				s.faults[recv.Name] = errorsFault[sel.Sel.Name]
			}
		}
		return false
	})
}

// opType splits the name of an operation's input or output Go type into the
// operation and "Input" or "Output"; ok is false for other types.
func (s *sdk) opType(goName string) (op, suffix string, ok bool) {
	for _, suf := range []string{"Input", "Output"} {
		if n, found := strings.CutSuffix(goName, suf); found && slices.Contains(s.svc.ops, n) {
			return n, suf, true
		}
	}
	return "", "", false
}

// schemaName maps a Go type name to its Smithy shape name. An operation's
// input and output are XRequest/XResponse in some models (ECS, ACM) and
// XInput/XOutput in others (ELBv2); the schemas package says which.
func (s *sdk) schemaName(goName string) string {
	op, suf, ok := s.opType(goName)
	if !ok {
		return goName
	}
	cands := []string{op + "Request", op + "Input"}
	if suf == "Output" {
		cands = []string{op + "Response", op + "Output", op + "Result"}
	}
	for _, c := range cands {
		if s.shapes[c] {
			return c
		}
	}
	return cands[0]
}

// ourName maps an SDK Go type name to the name it gets in the generated
// package: an operation's input and output are XRequest and XResponse.
func (s *sdk) ourName(goName string) string {
	op, suf, ok := s.opType(goName)
	if !ok {
		return goName
	}
	if suf == "Input" {
		return op + "Request"
	}
	return op + "Response"
}

func (s *sdk) visit(name string) {
	if s.needed[name] {
		return
	}
	if _, ok := s.structs[name]; !ok {
		return
	}
	s.needed[name] = true
	s.order = append(s.order, name)
	for _, f := range s.structs[name] {
		s.visitExpr(f.expr)
	}
}

func (s *sdk) visitExpr(e ast.Expr) {
	switch t := e.(type) {
	case *ast.StarExpr:
		s.visitExpr(t.X)
	case *ast.ArrayType:
		s.visitExpr(t.Elt)
	case *ast.MapType:
		s.visitExpr(t.Value)
	case *ast.SelectorExpr:
		if id, ok := t.X.(*ast.Ident); ok && id.Name == "types" {
			s.visitIdent(t.Sel.Name)
		}
	case *ast.Ident:
		s.visitIdent(t.Name)
	}
}

func (s *sdk) visitIdent(n string) {
	if _, ok := s.enums[n]; ok {
		s.needed[n] = true
		return
	}
	s.visit(n)
}

type kind int

const (
	kScalar kind = iota // non-boxed number or bool: always emitted
	kPointer
	kCollection
	kEnum
)

func (s *sdk) goType(e ast.Expr) (string, kind, error) {
	switch t := e.(type) {
	case *ast.Ident:
		switch t.Name {
		case "int32", "int64", "float64", "bool":
			return t.Name, kScalar, nil
		case "string":
			return "string", kEnum, nil
		}
		if _, ok := s.enums[t.Name]; ok {
			return t.Name, kEnum, nil
		}
		if s.unions[t.Name] {
			if s.svc.protocol != awsJSON {
				return "", 0, fmt.Errorf("union %s: only AWS JSON unions are supported", t.Name)
			}
			return "json.RawMessage", kCollection, nil
		}
		if _, ok := s.structs[t.Name]; ok {
			return s.ourName(t.Name), kScalar, nil
		}
	case *ast.SelectorExpr:
		pkg := t.X.(*ast.Ident).Name
		switch {
		case pkg == "types":
			return s.goType(t.Sel)
		case pkg == "document" && t.Sel.Name == "Interface" && s.svc.protocol == awsJSON:
			return "json.RawMessage", kCollection, nil
		}
	case *ast.StarExpr:
		if sel, ok := t.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Time" {
			if s.svc.protocol == awsQuery {
				return "*time.Time", kPointer, nil
			}
			return "*Timestamp", kPointer, nil
		}
		inner, _, err := s.goType(t.X)
		if err != nil {
			return "", 0, err
		}
		return "*" + inner, kPointer, nil
	case *ast.ArrayType:
		if id, ok := t.Elt.(*ast.Ident); ok && id.Name == "byte" {
			return "[]byte", kCollection, nil // a blob: base64 on the wire, as encoding/json writes it
		}
		inner, _, err := s.goType(t.Elt)
		if err != nil {
			return "", 0, err
		}
		return "[]" + inner, kCollection, nil
	case *ast.MapType:
		k, _, err := s.goType(t.Key)
		if err != nil {
			return "", 0, err
		}
		v, _, err := s.goType(t.Value)
		if err != nil {
			return "", 0, err
		}
		return "map[" + k + "]" + v, kCollection, nil
	}
	return "", 0, fmt.Errorf("unsupported field type %T %v", e, e)
}

func (s *sdk) render(mod *module) ([]byte, error) {
	svc := s.svc
	for _, op := range svc.ops {
		if _, ok := s.structs[op+"Input"]; !ok {
			return nil, fmt.Errorf("operation %s: no %sInput in the sdk", op, op)
		}
		s.visit(op + "Input")
		s.visit(op + "Output")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by internal/awsgen from %s %s. DO NOT EDIT.\n\n", mod.Path, mod.Version)
	switch svc.protocol {
	case awsJSON:
		fmt.Fprintf(&b, "package %s\n\nimport \"encoding/json\"\n\nvar _ json.RawMessage\n\n", svc.pkg)
	case awsQuery:
		fmt.Fprintf(&b, "package %s\n\nimport \"time\"\n\nvar _ time.Time\n\n", svc.pkg)
	}

	names := append([]string(nil), s.order...)
	sort.Strings(names)
	declared := map[string]string{}
	for _, name := range names {
		our := s.ourName(name)
		if prev, dup := declared[our]; dup {
			return nil, fmt.Errorf("%s and %s would both be named %s", prev, name, our)
		}
		declared[our] = name
		sn := s.schemaName(name)
		members := s.members[sn]
		fmt.Fprintf(&b, "// %s is the %s shape %s.\n", our, svc.name, sn)
		fmt.Fprintf(&b, "type %s struct {\n", our)
		for _, f := range s.structs[name] {
			typ, k, err := s.goType(f.expr)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", name, f.goName, err)
			}
			member, ok := members[strings.ToLower(f.goName)]
			if !ok {
				return nil, fmt.Errorf("%s.%s: no schema member in %s", name, f.goName, sn)
			}
			if svc.protocol == awsQuery {
				fmt.Fprintf(&b, "\t%s %s `query:\"%s\"`\n", f.goName, typ, member)
				continue
			}
			opt := ""
			switch k {
			case kPointer, kEnum:
				opt = ",omitempty"
			case kCollection:
				opt = ",omitzero"
			}
			if k == kScalar && !isBasic(typ) {
				// A non-pointer struct member (rare in the model): omit when zero.
				opt = ",omitzero"
			}
			fmt.Fprintf(&b, "\t%s %s `json:\"%s%s\"`\n", f.goName, typ, member, opt)
		}
		b.WriteString("}\n\n")
	}

	var enums []string
	for n := range s.needed {
		if _, ok := s.enums[n]; ok {
			enums = append(enums, n)
		}
	}
	sort.Strings(enums)
	for _, n := range enums {
		if prev, dup := declared[n]; dup {
			return nil, fmt.Errorf("enum %s collides with shape %s", n, prev)
		}
		vals := s.enums[n]
		fmt.Fprintf(&b, "// %s is the %s enum %s.\ntype %s string\n\n", n, svc.name, n, n)
		b.WriteString("const (\n")
		for _, c := range s.consts[n] {
			fmt.Fprintf(&b, "\t%s %s = %q\n", c[0], n, c[1])
		}
		b.WriteString(")\n\n")
		fmt.Fprintf(&b, "// Values lists the values %s accepts for %s.\nfunc (%s) Values() []%s {\n\treturn []%s{", svc.name, n, n, n, n)
		for i, v := range vals {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", v)
		}
		b.WriteString("}\n}\n\n")
	}
	all, err := filepath.Glob(filepath.Join(mod.Dir, "api_op_*.go"))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, "// Operations lists every operation of the %s API model, implemented or not.\nvar Operations = []string{\n", svc.name)
	for _, f := range all {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "api_op_"), ".go")
		fmt.Fprintf(&b, "\t%q,\n", name)
	}
	b.WriteString("}\n")
	if svc.errors {
		var errs []string
		for n := range s.codes {
			errs = append(errs, n)
		}
		sort.Strings(errs)
		fmt.Fprintf(&b, "\n// ErrorCodes maps every error shape of the %s API model to the code it\n// carries on the wire.\nvar ErrorCodes = map[string]string{\n", svc.name)
		for _, n := range errs {
			fmt.Fprintf(&b, "\t%q: %q,\n", n, s.codes[n])
		}
		b.WriteString("}\n")
		fmt.Fprintf(&b, "\n// ErrorStatus maps every error shape of the %s API model to the HTTP status of\n// its response: the model's, else 400 for a client and 500 for a server fault.\nvar ErrorStatus = map[string]int{\n", svc.name)
		for _, n := range errs {
			st := s.status[n]
			if st == "" {
				st = map[string]string{"client": "400", "server": "500"}[s.faults[n]]
			}
			fmt.Fprintf(&b, "\t%q: %s,\n", n, st)
		}
		b.WriteString("}\n")
		fmt.Fprintf(&b, "\n// ErrorFaults maps every error shape of the %s API model to its fault:\n// \"client\" (the caller's error) or \"server\".\nvar ErrorFaults = map[string]string{\n", svc.name)
		for _, n := range errs {
			fmt.Fprintf(&b, "\t%q: %q,\n", n, s.faults[n])
		}
		b.WriteString("}\n")
	}
	return format.Source(b.Bytes())
}

func isBasic(t string) bool {
	switch t {
	case "int32", "int64", "float64", "bool":
		return true
	}
	return false
}
