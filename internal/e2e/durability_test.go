package e2e

import (
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func minimalTaskDef(family string) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("busybox:latest"), Memory: aws.Int32(64),
		}},
	}
}

// TestDurability_KillNine writes concurrently to a server process, kills it
// with SIGKILL while writes are in flight, restarts it, and checks that
// every write that was acknowledged is there.
func TestDurability_KillNine(t *testing.T) {
	dir := t.TempDir()
	p := startProcess(t, "server", dir)
	client := newClient(t, p.endpoint, testKeyID, testSecret)
	c := ctx(t)

	const writers, perWriter = 8, 40
	var mu sync.Mutex
	var acked []string // cluster names and family:revision ARNs acknowledged
	var wg sync.WaitGroup
	killed := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				name := fmt.Sprintf("w%d-%03d", w, i)
				if _, err := client.CreateCluster(c, &ecs.CreateClusterInput{ClusterName: aws.String(name)}); err != nil {
					return // the server is gone: stop writing
				}
				out, err := client.RegisterTaskDefinition(c, minimalTaskDef(name))
				mu.Lock()
				acked = append(acked, "cluster:"+name)
				if err == nil {
					acked = append(acked, aws.ToString(out.TaskDefinition.TaskDefinitionArn))
				}
				n := len(acked)
				mu.Unlock()
				if err != nil {
					return
				}
				if n == writers*perWriter { // halfway through the writes in total
					select {
					case <-killed:
					default:
						close(killed)
					}
				}
			}
		}()
	}
	<-killed
	p.kill()
	wg.Wait()
	if len(acked) < writers*perWriter {
		t.Fatalf("only %d writes were acknowledged before the kill", len(acked))
	}

	p2 := startProcess(t, "server", dir)
	client = newClient(t, p2.endpoint, testKeyID, testSecret)
	var clusters []string
	for _, a := range acked {
		if name, ok := cutPrefix(a, "cluster:"); ok {
			clusters = append(clusters, name)
			continue
		}
		if _, err := client.DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(a)}); err != nil {
			t.Fatalf("acknowledged task definition %s lost after kill -9: %v", a, err)
		}
	}
	for i := 0; i < len(clusters); i += 100 {
		out, err := client.DescribeClusters(c, &ecs.DescribeClustersInput{Clusters: clusters[i:min(i+100, len(clusters))]})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Failures) > 0 {
			t.Fatalf("acknowledged cluster %s lost after kill -9", aws.ToString(out.Failures[0].Arn))
		}
	}
	t.Logf("%d acknowledged writes survived kill -9", len(acked))

	// A clean stop (SIGTERM) exits 0 and keeps everything too.
	if err := p2.stop(); err != nil {
		t.Fatalf("got exit %v on SIGTERM, want 0", err)
	}
	p3 := startProcess(t, "server", dir)
	client = newClient(t, p3.endpoint, testKeyID, testSecret)
	l, err := client.ListClusters(c, &ecs.ListClustersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.ClusterArns) == 0 {
		t.Fatal("got no clusters after a clean restart")
	}
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return "", false
}

// TestDurability_SnapshotAndLogReplay restarts from a snapshot plus the log
// written after it, in process.
func TestDurability_SnapshotAndLogReplay(t *testing.T) {
	dir := t.TempDir()
	e := startIn(t, dir)
	c := ctx(t)
	for i := range 20 {
		if _, err := e.ecs.RegisterTaskDefinition(c, minimalTaskDef("fam")); err != nil {
			t.Fatalf("register %d: %v", i, err)
		}
	}
	if err := e.srv.Node().Snapshot(); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := e.ecs.RegisterTaskDefinition(c, minimalTaskDef("fam")); err != nil {
			t.Fatalf("register after snapshot %d: %v", i, err)
		}
	}
	if _, err := e.ecs.DeregisterTaskDefinition(c, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("fam:3")}); err != nil {
		t.Fatal(err)
	}
	before := e.stateCounts()
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := startIn(t, dir)
	if got := e2.stateCounts(); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Fatalf("got state %v after restart, want %v", got, before)
	}
	d, err := e2.ecs.DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("fam")})
	if err != nil {
		t.Fatal(err)
	}
	if d.TaskDefinition.Revision != 25 {
		t.Fatalf("got latest revision %d, want 25", d.TaskDefinition.Revision)
	}
	d, err = e2.ecs.DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("fam:3")})
	if err != nil || d.TaskDefinition.Status != types.TaskDefinitionStatusInactive {
		t.Fatalf("got %v %v, want fam:3 INACTIVE", d, err)
	}
	// The next revision continues the numbering.
	r, err := e2.ecs.RegisterTaskDefinition(c, minimalTaskDef("fam"))
	if err != nil || r.TaskDefinition.Revision != 26 {
		t.Fatalf("got %v %v, want revision 26", r, err)
	}
}
