// Package awslogs holds the end-to-end tests of the awslogs log driver:
// a task definition whose container logs with awslogs (the group created
// by awslogs-create-group) runs the test application (internal/demoapp)
// on the Docker and the process runtimes; its agent reads the container's
// output from the runtime and ships it to the server's CloudWatch Logs
// store, where the real aws-sdk-go-v2 cloudwatchlogs client finds the lines
// with GetLogEvents (stream prefix/container/task-id) and FilterLogEvents,
// after the task stopped too. The server and the agent run in the test's
// process.
package awslogs
