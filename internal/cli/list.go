package cli

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// pager is an SDK paginator of a List operation.
type pager[P any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*ecs.Options)) (P, error)
}

// listAll reads every page of p and returns the ARNs arns takes from each.
func listAll[P any](ctx context.Context, p pager[P], arns func(P) []string) ([]string, error) {
	var out []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, arns(page)...)
	}
	return out, nil
}

// describeAll calls describe with arns in batches of at most size (the
// Describe operation's limit) and returns the results in order.
func describeAll[T any](arns []string, size int, describe func([]string) ([]T, error)) ([]T, error) {
	var out []T
	for i := 0; i < len(arns); i += size {
		got, err := describe(arns[i:min(i+size, len(arns))])
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}
