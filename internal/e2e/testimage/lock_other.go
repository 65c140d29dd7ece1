//go:build !unix

package testimage

import (
	"context"
	"sync"
)

var imageMu sync.Mutex

// lock serialises builds within this process only.
func lock(ctx context.Context, path string) (func(), error) {
	imageMu.Lock()
	return imageMu.Unlock, nil
}
