package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// loadFullTaskDef reads the task definition fixture that sets every member
// of the request and of a container definition.
func loadFullTaskDef(t *testing.T) *ecs.RegisterTaskDefinitionInput {
	t.Helper()
	raw, err := os.ReadFile("../taskdef/testdata/full_request.json")
	if err != nil {
		t.Fatal(err)
	}
	// The SDK's union members (interfaces) cannot be decoded by encoding/json:
	// take them out of the document and set them by hand below.
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	unions := 0
	for _, cd := range doc["containerDefinitions"].([]any) {
		rrs, _ := cd.(map[string]any)["resourceRequirements"].([]any)
		for _, rr := range rrs {
			if _, ok := rr.(map[string]any)["sharingStrategy"]; ok {
				delete(rr.(map[string]any), "sharingStrategy")
				unions++
			}
		}
	}
	raw, _ = json.Marshal(doc)
	var in ecs.RegisterTaskDefinitionInput
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		t.Fatalf("decode fixture into the SDK input: %v", err)
	}
	if unions == 0 {
		t.Fatal("fixture has no sharingStrategy: update this loader")
	}
	in.ContainerDefinitions[0].ResourceRequirements[0].SharingStrategy = &types.SharingStrategyMemberNvidiaMps{
		Value: types.NvidiaMpsAllocation{Memory: aws.Int32(2048), MaxComputePercent: aws.Int32(50)},
	}
	return &in
}

// unsetFields lists exported fields of v (a struct) left at their zero value.
func unsetFields(v reflect.Value, prefix string) []string {
	var out []string
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		if v.Field(i).IsZero() {
			out = append(out, prefix+f.Name)
		}
	}
	return out
}

// subset reports where want (what the client sent) is not contained in got
// (what berth returned): every member set in want must come back equal;
// members berth adds (defaults, computed fields) are allowed.
func subset(path string, want, got reflect.Value) []string {
	if want.Kind() == reflect.Pointer || want.Kind() == reflect.Interface {
		if want.IsNil() {
			return nil
		}
		if got.IsNil() {
			return []string{path + ": missing"}
		}
		return subset(path, want.Elem(), got.Elem())
	}
	switch want.Kind() {
	case reflect.Struct:
		var out []string
		for i := 0; i < want.NumField(); i++ {
			f := want.Type().Field(i)
			if !f.IsExported() || want.Field(i).IsZero() {
				continue
			}
			gf := got.FieldByName(f.Name)
			if !gf.IsValid() {
				out = append(out, path+"."+f.Name+": no such member in the output")
				continue
			}
			out = append(out, subset(path+"."+f.Name, want.Field(i), gf)...)
		}
		return out
	case reflect.Slice:
		if want.IsNil() {
			return nil
		}
		if want.Len() != got.Len() {
			return []string{fmt.Sprintf("%s: got %d items, want %d", path, got.Len(), want.Len())}
		}
		var out []string
		for i := 0; i < want.Len(); i++ {
			out = append(out, subset(fmt.Sprintf("%s[%d]", path, i), want.Index(i), got.Index(i))...)
		}
		return out
	case reflect.Map:
		var out []string
		for _, k := range want.MapKeys() {
			gv := got.MapIndex(k)
			if !gv.IsValid() {
				out = append(out, fmt.Sprintf("%s[%v]: missing", path, k))
				continue
			}
			out = append(out, subset(fmt.Sprintf("%s[%v]", path, k), want.MapIndex(k), gv)...)
		}
		return out
	}
	if !reflect.DeepEqual(want.Interface(), got.Interface()) {
		return []string{fmt.Sprintf("%s: got %v, want %v", path, got.Interface(), want.Interface())}
	}
	return nil
}

// TestTaskDefinitions_RoundTripEveryField registers a definition with every
// member set through the SDK and checks that DescribeTaskDefinition returns
// each one unchanged.
func TestTaskDefinitions_RoundTripEveryField(t *testing.T) {
	e := start(t)
	c := ctx(t)
	in := loadFullTaskDef(t)
	// The fixture must set every member the SDK's model has, so this test
	// fails when the model grows.
	if unset := unsetFields(reflect.ValueOf(*in), "RegisterTaskDefinitionInput."); len(unset) > 0 {
		t.Fatalf("fixture leaves members unset: %v", unset)
	}
	if unset := unsetFields(reflect.ValueOf(in.ContainerDefinitions[0]), "ContainerDefinition."); len(unset) > 0 {
		t.Fatalf("fixture's first container leaves members unset: %v", unset)
	}
	// berth refuses the members it does not honour yet (the first one it
	// finds is named); without them, everything round-trips.
	_, err := e.ecs.RegisterTaskDefinition(c, in)
	wantAPIError[*types.UnsupportedFeatureException](t, err, "berth does not support containerDefinitions[].portMappings[].containerPortRange yet.")
	withoutUnsupported(in)
	reg, err := e.ecs.RegisterTaskDefinition(c, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(reg.Tags) != len(in.Tags) {
		t.Fatalf("got %d tags in the register answer, want %d", len(reg.Tags), len(in.Tags))
	}
	d, err := e.ecs.DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: reg.TaskDefinition.TaskDefinitionArn,
		Include:        []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
	})
	if err != nil {
		t.Fatal(err)
	}
	td := d.TaskDefinition
	want := *in
	want.Tags = nil // tags come back beside the definition, checked below
	if diff := subset("taskDefinition", reflect.ValueOf(want), reflect.ValueOf(*td)); len(diff) > 0 {
		t.Fatalf("describe differs from register:\n%s", joinLines(diff))
	}
	if diff := subset("tags", reflect.ValueOf(in.Tags), reflect.ValueOf(d.Tags)); len(diff) > 0 {
		t.Fatalf("tags differ:\n%s", joinLines(diff))
	}
	if td.Revision != 1 || td.Status != types.TaskDefinitionStatusActive || td.RegisteredAt == nil ||
		aws.ToString(td.RegisteredBy) != "arn:aws:iam::123456789012:root" || len(td.Compatibilities) == 0 {
		t.Fatalf("got revision %d status %s registeredAt %v by %s compat %v, want 1 ACTIVE set root non-empty",
			td.Revision, td.Status, td.RegisteredAt, aws.ToString(td.RegisteredBy), td.Compatibilities)
	}
	if got, want := aws.ToString(td.TaskDefinitionArn), "arn:aws:ecs:us-east-1:123456789012:task-definition/everything:1"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	// The register answer is the same definition.
	if diff := subset("register", reflect.ValueOf(*reg.TaskDefinition), reflect.ValueOf(*td)); len(diff) > 0 {
		t.Fatalf("register answer differs from describe:\n%s", joinLines(diff))
	}
}

// withoutUnsupported clears the members of the full fixture that berth
// refuses (internal/ecsapi/testdata/fields.txt, "refused").
func withoutUnsupported(in *ecs.RegisterTaskDefinitionInput) {
	in.EnableFaultInjection = nil
	in.InferenceAccelerators = nil
	in.IpcMode, in.PidMode = "", ""
	in.ProxyConfiguration = nil
	var vols []types.Volume
	for _, v := range in.Volumes {
		if v.EfsVolumeConfiguration != nil || v.FsxWindowsFileServerVolumeConfiguration != nil ||
			v.S3filesVolumeConfiguration != nil || aws.ToBool(v.ConfiguredAtLaunch) {
			continue
		}
		if dv := v.DockerVolumeConfiguration; dv != nil {
			dv.DriverOpts, dv.Labels = nil, nil
		}
		vols = append(vols, v)
	}
	in.Volumes = vols
	for i := range in.ContainerDefinitions {
		cd := &in.ContainerDefinitions[i]
		var pms []types.PortMapping
		for _, pm := range cd.PortMappings {
			if pm.ContainerPortRange == nil {
				pms = append(pms, pm)
			}
		}
		if cd.PortMappings != nil {
			cd.PortMappings = append([]types.PortMapping{}, pms...)
		}
		if lp := cd.LinuxParameters; lp != nil {
			lp.MaxSwap, lp.Swappiness = nil, nil
		}
		cd.CredentialSpecs, cd.Links = nil, nil
		cd.DisableNetworking, cd.Interactive, cd.PseudoTerminal = nil, nil, nil
		cd.EnvironmentFiles, cd.ResourceRequirements = nil, nil
		cd.FirelensConfiguration, cd.RepositoryCredentials, cd.RestartPolicy = nil, nil, nil
	}
}

func joinLines(s []string) string {
	var b bytes.Buffer
	for _, l := range s {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

func TestTaskDefinitions_DefaultsAsECS(t *testing.T) {
	e := start(t)
	c := ctx(t)
	out, err := e.ecs.RegisterTaskDefinition(c, minimalTaskDef("mini"))
	if err != nil {
		t.Fatal(err)
	}
	cd := out.TaskDefinition.ContainerDefinitions[0]
	if !aws.ToBool(cd.Essential) || cd.Cpu != 0 || cd.PortMappings == nil || cd.Environment == nil || cd.MountPoints == nil || cd.VolumesFrom == nil {
		t.Fatalf("got %+v, want essential true, cpu 0 and empty lists", cd)
	}
	if out.TaskDefinition.Volumes == nil || out.TaskDefinition.PlacementConstraints == nil {
		t.Fatal("got nil volumes/placementConstraints, want empty lists")
	}
	// awsvpc with hostPort 0 stores the container port, as ECS does.
	in := minimalTaskDef("vpc")
	in.NetworkMode = types.NetworkModeAwsvpc
	in.ContainerDefinitions[0].PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0)}}
	out, err = e.ecs.RegisterTaskDefinition(c, in)
	if err != nil {
		t.Fatal(err)
	}
	pm := out.TaskDefinition.ContainerDefinitions[0].PortMappings[0]
	if aws.ToInt32(pm.HostPort) != 8080 || pm.Protocol != types.TransportProtocolTcp {
		t.Fatalf("got %+v, want hostPort 8080 tcp", pm)
	}
}

func TestTaskDefinitions_Validation(t *testing.T) {
	e := start(t)
	c := ctx(t)
	noMemory := minimalTaskDef("nomem")
	noMemory.ContainerDefinitions[0].Memory = nil
	_, err := e.ecs.RegisterTaskDefinition(c, noMemory)
	wantAPIError[*types.ClientException](t, err, "Invalid setting for container 'app'. At least one of 'memory' or 'memoryReservation' must be specified.")

	fargate := minimalTaskDef("fg")
	fargate.RequiresCompatibilities = []types.Compatibility{types.CompatibilityFargate}
	fargate.NetworkMode = types.NetworkModeAwsvpc
	fargate.Cpu, fargate.Memory = aws.String("1024"), aws.String("1024")
	_, err = e.ecs.RegisterTaskDefinition(c, fargate)
	wantAPIError[*types.ClientException](t, err, "No Fargate configuration exists for given values: 1024 CPU, 1024 memory.")

	badFamily := minimalTaskDef("bad family")
	_, err = e.ecs.RegisterTaskDefinition(c, badFamily)
	wantAPIError[*types.ClientException](t, err, "")

	noEssential := minimalTaskDef("ess")
	noEssential.ContainerDefinitions[0].Essential = aws.Bool(false)
	_, err = e.ecs.RegisterTaskDefinition(c, noEssential)
	wantAPIError[*types.ClientException](t, err, "essential")

	badTag := minimalTaskDef("tagged")
	badTag.Tags = []types.Tag{{Key: aws.String("aws:reserved"), Value: aws.String("x")}}
	_, err = e.ecs.RegisterTaskDefinition(c, badTag)
	wantAPIError[*types.InvalidParameterException](t, err, "aws:")

	if n := e.stateCounts()["taskdefs"]; n != 0 {
		t.Fatalf("got %d task definitions after rejected registrations, want 0", n)
	}
	_, err = e.ecs.DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("nomem")})
	wantAPIError[*types.ClientException](t, err, "Unable to describe task definition.")
}

func TestTaskDefinitions_RevisionsListsAndLifecycle(t *testing.T) {
	e := start(t)
	c := ctx(t)
	for _, fam := range []string{"api", "api", "api", "apiworker", "batch"} {
		if _, err := e.ecs.RegisterTaskDefinition(c, minimalTaskDef(fam)); err != nil {
			t.Fatal(err)
		}
	}
	// Describe forms: family (latest ACTIVE), family:rev, ARN.
	for ref, rev := range map[string]int32{
		"api": 3, "api:2": 2, "arn:aws:ecs:us-east-1:123456789012:task-definition/api:1": 1,
	} {
		d, err := e.ecs.DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)})
		if err != nil || d.TaskDefinition.Revision != rev {
			t.Fatalf("describe %s: got %v %v, want revision %d", ref, d, err, rev)
		}
	}
	list := func(in *ecs.ListTaskDefinitionsInput) []string {
		var all []string
		p := ecs.NewListTaskDefinitionsPaginator(e.ecs, in)
		for p.HasMorePages() {
			page, err := p.NextPage(c)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page.TaskDefinitionArns...)
		}
		return all
	}
	arn := func(s string) string { return "arn:aws:ecs:us-east-1:123456789012:task-definition/" + s }
	if got, want := list(&ecs.ListTaskDefinitionsInput{MaxResults: aws.Int32(2)}), []string{arn("api:1"), arn("api:2"), arn("api:3"), arn("apiworker:1"), arn("batch:1")}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got, want := list(&ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("api"), Sort: types.SortOrderDesc, MaxResults: aws.Int32(1)}), []string{arn("apiworker:1"), arn("api:3"), arn("api:2"), arn("api:1")}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}

	// Deregister needs a revision; then the family's latest ACTIVE moves down.
	_, err := e.ecs.DeregisterTaskDefinition(c, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("api")})
	wantAPIError[*types.ClientException](t, err, "revision")
	dr, err := e.ecs.DeregisterTaskDefinition(c, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("api:3")})
	if err != nil || dr.TaskDefinition.Status != types.TaskDefinitionStatusInactive || dr.TaskDefinition.DeregisteredAt == nil {
		t.Fatalf("got %+v %v, want INACTIVE with deregisteredAt", dr, err)
	}
	d, err := e.ecs.DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("api")})
	if err != nil || d.TaskDefinition.Revision != 2 {
		t.Fatalf("got %v %v, want latest ACTIVE api:2", d, err)
	}
	if got := list(&ecs.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatusInactive}); fmt.Sprint(got) != fmt.Sprint([]string{arn("api:3")}) {
		t.Fatalf("got inactive %v, want api:3", got)
	}

	// Delete: ACTIVE ones fail without error, INACTIVE ones go.
	del, err := e.ecs.DeleteTaskDefinitions(c, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"api:3", "api:2", "nope:1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.TaskDefinitions) != 1 || del.TaskDefinitions[0].Status != types.TaskDefinitionStatusDeleteInProgress || len(del.Failures) != 2 {
		t.Fatalf("got %+v, want api:3 DELETE_IN_PROGRESS and 2 failures", del)
	}
	_, err = e.ecs.DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("api:3")})
	wantAPIError[*types.ClientException](t, err, "Unable to describe task definition.")

	// Families: batch becomes INACTIVE-only after its only revision is deregistered.
	if _, err := e.ecs.DeregisterTaskDefinition(c, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("batch:1")}); err != nil {
		t.Fatal(err)
	}
	fams := func(s types.TaskDefinitionFamilyStatus) []string {
		out, err := e.ecs.ListTaskDefinitionFamilies(c, &ecs.ListTaskDefinitionFamiliesInput{Status: s})
		if err != nil {
			t.Fatal(err)
		}
		return out.Families
	}
	if got := fams(types.TaskDefinitionFamilyStatusActive); fmt.Sprint(got) != "[api apiworker]" {
		t.Fatalf("got active families %v, want [api apiworker]", got)
	}
	if got := fams(types.TaskDefinitionFamilyStatusInactive); fmt.Sprint(got) != "[batch]" {
		t.Fatalf("got inactive families %v, want [batch]", got)
	}
	if got := fams(""); fmt.Sprint(got) != "[api apiworker batch]" {
		t.Fatalf("got all families %v, want [api apiworker batch]", got)
	}
	// Deleting every revision of a family removes it; the numbering continues.
	if _, err := e.ecs.DeleteTaskDefinitions(c, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"batch:1"}}); err != nil {
		t.Fatal(err)
	}
	if got := fams(""); fmt.Sprint(got) != "[api apiworker]" {
		t.Fatalf("got families %v after deleting batch, want [api apiworker]", got)
	}
	r, err := e.ecs.RegisterTaskDefinition(c, minimalTaskDef("batch"))
	if err != nil || r.TaskDefinition.Revision != 2 {
		t.Fatalf("got %v %v, want batch:2", r, err)
	}
}

// TestTaskDefinitions_ConcurrentRevisions registers one family from many
// clients at once: every revision is given exactly once.
func TestTaskDefinitions_ConcurrentRevisions(t *testing.T) {
	e := start(t)
	c := ctx(t)
	const n = 60
	revs := make([]int, 0, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := e.ecs.RegisterTaskDefinition(c, minimalTaskDef("race"))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			revs = append(revs, int(out.TaskDefinition.Revision))
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Ints(revs)
	for i, r := range revs {
		if r != i+1 {
			t.Fatalf("got revisions %v, want 1..%d each once", revs, n)
		}
	}
}
