package main

// The generator reads these modules' source from the module cache and never
// calls them. Importing their schemas packages keeps them required in go.mod
// and go.sum (go mod tidy keeps what some package imports) and makes `go run`
// download them before the generator asks `go list -m` for their directory.
import (
	_ "github.com/aws/aws-sdk-go-v2/service/acm/schemas"
	_ "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs" // no schemas package in this module
	_ "github.com/aws/aws-sdk-go-v2/service/ecs/schemas"
	_ "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/schemas"
	_ "github.com/aws/aws-sdk-go-v2/service/secretsmanager/schemas"
	_ "github.com/aws/aws-sdk-go-v2/service/servicediscovery" // no schemas package in this module
	_ "github.com/aws/aws-sdk-go-v2/service/ssm/schemas"
)
