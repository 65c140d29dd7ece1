// Package secrets holds the end-to-end tests of secret injection:
// containerDefinitions[].secrets from Secrets Manager and SSM Parameter
// Store, fetched by the agent from the server as a task starts and
// injected as environment variables, on the Docker and the process
// runtimes, with the real aws-sdk-go-v2 clients (ECS, Secrets Manager,
// SSM). The server and the agents run in the test's process; the tasks
// are real containers or processes of the test application
// (internal/demoapp), whose GET / echoes its environment.
//
// Every test also searches the server's data dir, the agent's data dir
// (the runtime's state directory included) and the captured logs of the
// server and the agent for the secret values, and finds none. Docker's
// own container config (outside the agent's data dir) holds a container's
// environment, secrets included, as it does for ECS on EC2.
package secrets
