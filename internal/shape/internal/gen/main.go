// Command gen writes the ECS wire shapes of package shape from the
// aws-sdk-go-v2 ECS client module that go.mod pins.
//
// The SDK is generated from the AWS Smithy model; its types package holds the
// Go structure of every shape and its schemas package the exact JSON member
// names. gen walks the shapes reachable from the operations berth serves and
// writes JSON-tagged structs, enums with their allowed values, and one
// Request/Response pair per operation. Run it with `go generate ./internal/shape`.
package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// ops are the operations whose shapes are generated. Keep sorted by group.
var ops = []string{
	// clusters
	"CreateCluster", "DescribeClusters", "ListClusters", "DeleteCluster", "UpdateCluster",
	"UpdateClusterSettings", "PutClusterCapacityProviders",
	// task definitions
	"RegisterTaskDefinition", "DescribeTaskDefinition", "ListTaskDefinitions",
	"ListTaskDefinitionFamilies", "DeregisterTaskDefinition", "DeleteTaskDefinitions",
	// container instances and attributes
	"RegisterContainerInstance", "DeregisterContainerInstance", "DescribeContainerInstances",
	"ListContainerInstances", "UpdateContainerInstancesState", "UpdateContainerAgent",
	"PutAttributes", "DeleteAttributes", "ListAttributes", "DiscoverPollEndpoint",
	// tags and account settings
	"TagResource", "UntagResource", "ListTagsForResource",
	"ListAccountSettings", "PutAccountSetting", "PutAccountSettingDefault", "DeleteAccountSetting",
	// tasks
	"RunTask", "StartTask", "StopTask", "DescribeTasks", "ListTasks",
	"SubmitTaskStateChange", "SubmitContainerStateChange", "SubmitAttachmentStateChanges",
	"UpdateTaskProtection", "GetTaskProtection", "ExecuteCommand",
	// services and deployments
	"CreateService", "UpdateService", "DeleteService", "DescribeServices", "ListServices",
	"ListServicesByNamespace", "ListServiceDeployments", "DescribeServiceDeployments",
	"DescribeServiceRevisions", "StopServiceDeployment",
	// capacity providers and task sets
	"CreateCapacityProvider", "UpdateCapacityProvider", "DeleteCapacityProvider",
	"DescribeCapacityProviders", "CreateTaskSet", "UpdateTaskSet", "DeleteTaskSet",
	"DescribeTaskSets", "UpdateServicePrimaryTaskSet",
}

type field struct {
	goName string
	expr   ast.Expr
}

type sdk struct {
	structs map[string][]field           // Go type name -> fields (types package and op inputs/outputs)
	enums   map[string][]string          // enum type -> values
	consts  map[string][][2]string       // enum type -> (const name, value)
	unions  map[string]bool              // interface (union) types
	members map[string]map[string]string // schema shape -> lower(member) -> member name
	docs    map[string]string
	needed  map[string]bool
	order   []string
}

func main() {
	out := "zz_generated.go"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	dir, err := sdkDir()
	if err != nil {
		fatal(err)
	}
	s := &sdk{
		structs: map[string][]field{},
		enums:   map[string][]string{},
		consts:  map[string][][2]string{},
		unions:  map[string]bool{},
		members: map[string]map[string]string{},
		needed:  map[string]bool{},
	}
	if err := s.load(dir); err != nil {
		fatal(err)
	}
	src, err := s.render(dir)
	if err != nil {
		fatal(err)
	}
	if err := os.WriteFile(out, src, 0o644); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}

func sdkDir() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-sdk-go-v2/service/ecs").Output()
	if err != nil {
		return "", fmt.Errorf("locate sdk module: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

var addMember = regexp.MustCompile(`^\s*([A-Za-z0-9]+)_([A-Za-z0-9]+) = ([A-Za-z0-9]+)\.AddMember\("([A-Za-z0-9]+)"`)

func (s *sdk) load(dir string) error {
	fset := token.NewFileSet()
	files := []string{filepath.Join(dir, "types", "types.go"), filepath.Join(dir, "types", "enums.go")}
	for _, op := range ops {
		files = append(files, filepath.Join(dir, "api_op_"+op+".go"))
	}
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		for _, decl := range f.Decls {
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
	if err != nil {
		return fmt.Errorf("read schemas: %w", err)
	}
	for _, line := range strings.Split(string(schemas), "\n") {
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
	return nil
}

// schemaName maps a Go type name to its Smithy shape name.
func schemaName(goName string) string {
	if n, ok := strings.CutSuffix(goName, "Input"); ok && isOp(n) {
		return n + "Request"
	}
	if n, ok := strings.CutSuffix(goName, "Output"); ok && isOp(n) {
		return n + "Response"
	}
	return goName
}

func isOp(n string) bool {
	for _, op := range ops {
		if op == n {
			return true
		}
	}
	return false
}

// ourName maps an SDK Go type name to the name it gets in package shape.
func ourName(goName string) string { return schemaName(goName) }

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
			return "json.RawMessage", kCollection, nil
		}
		if _, ok := s.structs[t.Name]; ok {
			return ourName(t.Name), kScalar, nil
		}
	case *ast.SelectorExpr:
		pkg := t.X.(*ast.Ident).Name
		switch {
		case pkg == "types":
			return s.goType(t.Sel)
		case pkg == "document" && t.Sel.Name == "Interface":
			return "json.RawMessage", kCollection, nil
		}
	case *ast.StarExpr:
		if sel, ok := t.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Time" {
			return "*Timestamp", kPointer, nil
		}
		inner, _, err := s.goType(t.X)
		if err != nil {
			return "", 0, err
		}
		return "*" + inner, kPointer, nil
	case *ast.ArrayType:
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

func (s *sdk) render(dir string) ([]byte, error) {
	for _, op := range ops {
		s.visit(op + "Input")
		s.visit(op + "Output")
	}
	var b bytes.Buffer
	b.WriteString("// Code generated by internal/shape/internal/gen from aws-sdk-go-v2/service/ecs. DO NOT EDIT.\n\n")
	b.WriteString("package shape\n\nimport \"encoding/json\"\n\nvar _ json.RawMessage\n\n")

	names := append([]string(nil), s.order...)
	sort.Strings(names)
	for _, name := range names {
		sn := schemaName(name)
		members := s.members[sn]
		fmt.Fprintf(&b, "// %s is the ECS shape %s.\n", ourName(name), sn)
		fmt.Fprintf(&b, "type %s struct {\n", ourName(name))
		for _, f := range s.structs[name] {
			typ, k, err := s.goType(f.expr)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", name, f.goName, err)
			}
			json, ok := members[strings.ToLower(f.goName)]
			if !ok {
				return nil, fmt.Errorf("%s.%s: no schema member in %s", name, f.goName, sn)
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
			fmt.Fprintf(&b, "\t%s %s `json:\"%s%s\"`\n", f.goName, typ, json, opt)
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
		vals := s.enums[n]
		fmt.Fprintf(&b, "// %s is the ECS enum %s.\ntype %s string\n\n", n, n, n)
		b.WriteString("const (\n")
		for _, c := range s.consts[n] {
			fmt.Fprintf(&b, "\t%s %s = %q\n", c[0], n, c[1])
		}
		b.WriteString(")\n\n")
		fmt.Fprintf(&b, "// Values lists the values ECS accepts for %s.\nfunc (%s) Values() []%s {\n\treturn []%s{", n, n, n, n)
		for i, v := range vals {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", v)
		}
		b.WriteString("}\n}\n\n")
	}
	all, err := filepath.Glob(filepath.Join(dir, "api_op_*.go"))
	if err != nil {
		return nil, err
	}
	b.WriteString("// Operations lists every operation of the ECS API model, implemented or not.\nvar Operations = []string{\n")
	for _, f := range all {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "api_op_"), ".go")
		fmt.Fprintf(&b, "\t%q,\n", name)
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

func isBasic(t string) bool {
	switch t {
	case "int32", "int64", "float64", "bool":
		return true
	}
	return false
}
