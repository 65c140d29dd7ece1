package taskdef

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"sync"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/shape"
)

// Limits of a task definition.
const (
	maxContainers           = 10
	maxPlacementConstraints = 10
	maxDefinitionBytes      = 64 << 10
)

// nameRE is the alphabet of family, container and volume names.
var nameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`) })

// Build validates req and returns the TaskDefinition to store, with every
// default ECS fills in and its computed fields (compatibilities,
// requiresAttributes) set. The caller assigns taskDefinitionArn, revision,
// status, registeredAt and registeredBy, and validates and stores the tags.
//
// Every error is an *apierr.Error. req is not modified and the result shares no
// memory with it.
func Build(req *shape.RegisterTaskDefinitionRequest) (*shape.TaskDefinition, error) {
	if req == nil {
		req = &shape.RegisterTaskDefinitionRequest{}
	}
	if err := checkSize(req); err != nil {
		return nil, err
	}
	b := &builder{td: fromRequest(deepCopy(*req))}
	for _, step := range []func() *apierr.Error{
		b.checkFamily,
		b.checkContainerIdentity,
		b.checkEnums,
		b.checkEssential,
		b.parseTaskSize,
		b.checkContainers,
		b.checkNetwork,
		b.checkVolumes,
		b.checkDependencies,
		b.checkTaskOptions,
		b.checkRequiredCompatibilities,
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	b.normalise()
	b.td.Compatibilities = b.compatibilities()
	b.td.RequiresAttributes = requiredAttributes(b.td)
	return b.td, nil
}

// builder carries what the validation steps learn about the definition.
type builder struct {
	td *shape.TaskDefinition
	// cpu and mem are the parsed task size; zero when not set.
	cpu, mem int64
	// byName indexes the containers by name.
	byName map[string]*shape.ContainerDefinition
}

// fromRequest moves every member of the request but the tags into a task
// definition. r must already be a private copy.
func fromRequest(r shape.RegisterTaskDefinitionRequest) *shape.TaskDefinition {
	return &shape.TaskDefinition{
		ContainerDefinitions:    r.ContainerDefinitions,
		Family:                  r.Family,
		Cpu:                     r.Cpu,
		EnableFaultInjection:    r.EnableFaultInjection,
		EphemeralStorage:        r.EphemeralStorage,
		ExecutionRoleArn:        r.ExecutionRoleArn,
		InferenceAccelerators:   r.InferenceAccelerators,
		IpcMode:                 r.IpcMode,
		Memory:                  r.Memory,
		NetworkMode:             r.NetworkMode,
		PidMode:                 r.PidMode,
		PlacementConstraints:    r.PlacementConstraints,
		ProxyConfiguration:      r.ProxyConfiguration,
		RequiresCompatibilities: r.RequiresCompatibilities,
		RuntimePlatform:         r.RuntimePlatform,
		TaskRoleArn:             r.TaskRoleArn,
		Volumes:                 r.Volumes,
	}
}

// checkSize enforces the 64 KiB limit on the definition (tags excluded).
func checkSize(req *shape.RegisterTaskDefinitionRequest) *apierr.Error {
	r := *req
	r.Tags = nil
	body, err := json.Marshal(&r)
	if err != nil {
		return &apierr.Error{Code: apierr.Client, Message: "The task definition could not be serialized.", Err: err}
	}
	if len(body) > maxDefinitionBytes {
		return clientf("Task definition size exceeds the limit of %d bytes. Actual size: %d bytes.", maxDefinitionBytes, len(body))
	}
	return nil
}

func (b *builder) checkFamily() *apierr.Error {
	f := b.td.Family
	switch {
	case f == nil || *f == "":
		return clientf("Family should not be null or empty.")
	case len(*f) > 255:
		return clientf("Family name cannot be longer than 255 characters.")
	case !nameRE().MatchString(*f):
		return clientf("Family contains invalid characters.")
	}
	return nil
}

// imageRE is the documented image alphabet plus "@" for digests.
var imageRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9_:./#@-]{1,255}$`) })

func (b *builder) checkContainerIdentity() *apierr.Error {
	cs := b.td.ContainerDefinitions
	switch {
	case len(cs) == 0:
		return clientf("Container list cannot be empty.")
	case len(cs) > maxContainers:
		return clientf("Too many containers.")
	}
	b.byName = make(map[string]*shape.ContainerDefinition, len(cs))
	for i := range cs {
		c := &cs[i]
		switch {
		case c.Name == nil || *c.Name == "":
			return clientf("Container.name should not be null or empty.")
		case !nameRE().MatchString(*c.Name):
			return clientf("Container.name contains invalid characters.")
		case c.Image == nil || *c.Image == "":
			return clientf("Container.image should not be null or empty.")
		case !imageRE().MatchString(*c.Image):
			return clientf("Container.image contains invalid characters.")
		}
		if _, dup := b.byName[*c.Name]; dup {
			return clientf("Container names must be unique within a Task Definition.")
		}
		b.byName[*c.Name] = c
	}
	return nil
}

func (b *builder) checkEssential() *apierr.Error {
	for _, c := range b.td.ContainerDefinitions {
		if c.Essential == nil || *c.Essential {
			return nil
		}
	}
	return clientf("Task definition doesn't have any essential container.")
}

// parseTaskSize parses and normalises the task-level cpu and memory.
func (b *builder) parseTaskSize() *apierr.Error {
	td := b.td
	if td.Cpu != nil {
		n, ok := parseCPU(*td.Cpu)
		if !ok {
			return apierr.InvalidParameterf("Invalid 'cpu' setting for task.")
		}
		b.cpu = n
		td.Cpu = ptr(strconv.FormatInt(n, 10))
		if !b.requires(shape.CompatibilityFargate) && (n < minEC2TaskCPU || n > maxEC2TaskCPU) {
			return clientf("Invalid 'cpu' setting for task.")
		}
	}
	if td.Memory != nil {
		n, ok := parseMemory(*td.Memory)
		if !ok {
			return apierr.InvalidParameterf("Invalid 'memory' setting for task.")
		}
		b.mem = n
		td.Memory = ptr(strconv.FormatInt(n, 10))
		if !b.requires(shape.CompatibilityFargate) && n == 0 {
			return clientf("Invalid 'memory' setting for task.")
		}
	}
	return nil
}

// requires reports whether requiresCompatibilities names c.
func (b *builder) requires(c shape.Compatibility) bool {
	return slices.Contains(b.td.RequiresCompatibilities, c)
}

// networkMode is the mode the containers run in; an omitted mode is bridge on
// Linux (and Docker's default NAT network on Windows, which follows the same
// port rules).
func (b *builder) networkMode() shape.NetworkMode {
	if b.td.NetworkMode == "" {
		return shape.NetworkModeBridge
	}
	return b.td.NetworkMode
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
