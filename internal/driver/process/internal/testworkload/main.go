// Command testworkload is a workload for the process runtime's tests.
//
//	testworkload alloc MIB   allocate and touch MIB MiB, then sleep
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) != 3 || os.Args[1] != "alloc" {
		fmt.Fprintln(os.Stderr, "usage: testworkload alloc MIB")
		os.Exit(2)
	}
	mib, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var keep [][]byte
	for i := 0; i < mib; i++ {
		b := make([]byte, 1<<20)
		for j := range b {
			if j%4096 == 0 {
				b[j] = 1
			}
		}
		keep = append(keep, b)
	}
	fmt.Println("allocated", len(keep), "MiB")
	time.Sleep(time.Minute)
}
