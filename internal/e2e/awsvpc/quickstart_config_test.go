package awsvpc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestQuickstart_READMEConfig follows the README's "Secrets, roles and
// logs" quickstart with the AWS CLI against `berth dev` as root on Docker,
// in a network namespace of the test's: a JSON secret, a SecureString, a
// log group with a retention, the two roles, examples/twelve-factor.json
// (FARGATE, awsvpc) run unchanged; the task's environment holds the
// configuration and the secrets, it reads its role's credentials at the
// task endpoint (which STS says are the role's), and its request log is
// found with get-log-events and filter-log-events.
func TestQuickstart_READMEConfig(t *testing.T) {
	d := startDevNS(t, 6*time.Minute)
	d.readme("secrets, roles and logs",
		`aws $B secretsmanager create-secret --name twelve-factor/db --secret-string '{"username":"app","password":"correct-horse"}'`,
		"aws $B ssm put-parameter --name /twelve-factor/api-token --type SecureString --value tok-1234",
		"aws $B logs create-log-group --log-group-name /ecs/twelve-factor",
		"aws $B logs put-retention-policy --log-group-name /ecs/twelve-factor --retention-in-days 7",
		"aws $B iam create-role --role-name ecsTaskExecutionRole --assume-role-policy-document file://examples/policies/ecs-tasks-trust.json",
		"aws $B iam attach-role-policy --role-name ecsTaskExecutionRole --policy-arn arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
		"aws $B iam create-role --role-name twelve-factor-app --assume-role-policy-document file://examples/policies/ecs-tasks-trust.json",
		"aws $B ecs register-task-definition --cli-input-json file://examples/twelve-factor.json",
		"aws $B ecs run-task --task-definition twelve-factor --launch-type FARGATE",
		`curl "http://TASK_IP:8080/fetch?url=http://169.254.170.2/v2/credentials/CREDENTIALS_ID"`,
		"aws $B logs get-log-events --log-group-name /ecs/twelve-factor --log-stream-name ecs/app/TASK_ID",
		`aws $B logs filter-log-events --log-group-name /ecs/twelve-factor --filter-pattern '"GET /"'`,
	)
	// The example is written for berth dev's default account; this berth
	// dev has an account of its own.
	def, err := os.ReadFile(filepath.Join(d.repoRoot, "examples", "twelve-factor.json"))
	if err != nil {
		t.Fatal(err)
	}
	defPath := filepath.Join(t.TempDir(), "twelve-factor.json")
	if err := os.WriteFile(defPath, []byte(strings.ReplaceAll(string(def), "000000000000", d.account)), 0o644); err != nil {
		t.Fatal(err)
	}
	text := func(args ...string) string {
		return strings.TrimSpace(d.aws(append([]string{"--output", "text"}, args...)...))
	}

	d.aws("secretsmanager", "create-secret", "--name", "twelve-factor/db", "--secret-string", `{"username":"app","password":"correct-horse"}`)
	d.aws("ssm", "put-parameter", "--name", "/twelve-factor/api-token", "--type", "SecureString", "--value", "tok-1234")
	d.aws("logs", "create-log-group", "--log-group-name", "/ecs/twelve-factor")
	d.aws("logs", "put-retention-policy", "--log-group-name", "/ecs/twelve-factor", "--retention-in-days", "7")
	d.aws("iam", "create-role", "--role-name", "ecsTaskExecutionRole", "--assume-role-policy-document", "file://examples/policies/ecs-tasks-trust.json")
	d.aws("iam", "attach-role-policy", "--role-name", "ecsTaskExecutionRole", "--policy-arn", "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
	d.aws("iam", "create-role", "--role-name", "twelve-factor-app", "--assume-role-policy-document", "file://examples/policies/ecs-tasks-trust.json")
	d.aws("ecs", "register-task-definition", "--cli-input-json", "file://"+defPath)
	taskArn := text("ecs", "run-task", "--task-definition", "twelve-factor", "--launch-type", "FARGATE",
		"--network-configuration", "awsvpcConfiguration={subnets=[subnet-12345678]}", "--query", "tasks[0].taskArn")
	taskID := taskArn[strings.LastIndex(taskArn, "/")+1:]
	d.aws("ecs", "wait", "tasks-running", "--tasks", taskArn)
	ip := text("ecs", "describe-tasks", "--tasks", taskArn, "--query", "tasks[0].attachments[0].details[?name==`privateIPv4Address`].value")

	// The environment: configuration, secrets, and the task endpoint's URIs.
	var echo struct{ Env map[string]string }
	for start := time.Now(); ; time.Sleep(200 * time.Millisecond) {
		out, err := d.run("curl", "-fsS", "--max-time", "6", "http://"+ip+":8080/")
		if err == nil && json.Unmarshal([]byte(out), &echo) == nil {
			break
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("curl the task: %v %s", err, out)
		}
	}
	for k, v := range map[string]string{"APP_MODE": "production", "DB_USER": "app", "DB_PASSWORD": "correct-horse",
		"API_TOKEN": "tok-1234", "AWS_ENDPOINT_URL": "http://169.254.170.2", "AWS_REGION": "us-east-1"} {
		if echo.Env[k] != v {
			t.Errorf("the task's %s is %q, want %q", k, echo.Env[k], v)
		}
	}
	rel := echo.Env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
	if !strings.HasPrefix(rel, "/v2/credentials/") {
		t.Fatalf("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI %q", rel)
	}

	// The role's credentials, read from inside the task, are the role's.
	out := d.must("curl", "-fsS", "--max-time", "6", "http://"+ip+":8080/fetch?url=http://169.254.170.2"+rel)
	var creds struct{ RoleArn, AccessKeyId, SecretAccessKey, Token string }
	if err := json.Unmarshal([]byte(out), &creds); err != nil || creds.Token == "" {
		t.Fatalf("credentials: %v %s", err, out)
	}
	who, err := d.runEnv([]string{"AWS_ACCESS_KEY_ID=" + creds.AccessKeyId, "AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey, "AWS_SESSION_TOKEN=" + creds.Token},
		awsBin, "--endpoint-url", d.endpoint, "--output", "text", "sts", "get-caller-identity", "--query", "Arn")
	if want := "arn:aws:sts::" + d.account + ":assumed-role/twelve-factor-app/" + taskID; err != nil || strings.TrimSpace(who) != want {
		t.Fatalf("get-caller-identity with the task's credentials: %v %q, want %s", err, who, want)
	}

	// The request log, in the task's stream.
	for start := time.Now(); ; time.Sleep(250 * time.Millisecond) {
		got := text("logs", "get-log-events", "--log-group-name", "/ecs/twelve-factor", "--log-stream-name", "ecs/app/"+taskID,
			"--query", "events[].message")
		if strings.Contains(got, "GET /") {
			break
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("the task's stream holds no request line: %q", got)
		}
	}
	if got := text("logs", "filter-log-events", "--log-group-name", "/ecs/twelve-factor", "--filter-pattern", `"GET /"`,
		"--query", "events[0].logStreamName"); got != "ecs/app/"+taskID {
		t.Errorf("filter-log-events: first match in %q, want ecs/app/%s", got, taskID)
	}
	d.aws("ecs", "stop-task", "--task", taskArn)
	d.aws("ecs", "wait", "tasks-stopped", "--tasks", taskArn)
}
