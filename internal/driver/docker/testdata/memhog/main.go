// Command memhog is the Docker runtime tests' memory hog, run FROM
// scratch: `memhog N` allocates N MiB one MiB at a time, touching every
// page, prints "allocated N MiB" and then waits for a signal. Past a memory
// limit the kernel OOM-kills it before it prints.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

var keep [][]byte

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: memhog MIB")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[1])
	if err != nil || n < 0 {
		fmt.Fprintln(os.Stderr, "memhog: MIB must be a whole number")
		os.Exit(2)
	}
	for range n {
		b := make([]byte, 1<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		keep = append(keep, b)
	}
	fmt.Printf("allocated %d MiB\n", n)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
}
