// Command testworkload is a workload for the process runtime's tests.
//
//	testworkload alloc MIB     allocate and touch MIB MiB, then sleep
//	testworkload listen ADDR   listen on TCP ADDR, print "listening on ADDR",
//	                           answer each connection with "hello from PID"
//	testworkload dial ADDR     connect to TCP ADDR and print the first line
//	testworkload ifaces        print the network interfaces' names, one a line
//	testworkload resolve NAME  look NAME's IPv4 addresses up with Go's own
//	                           resolver (/etc/resolv.conf), print "resolved ADDR..."
package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch {
	case os.Args[1] == "alloc" && len(os.Args) == 3:
		alloc(os.Args[2])
	case os.Args[1] == "listen" && len(os.Args) == 3:
		listen(os.Args[2])
	case os.Args[1] == "dial" && len(os.Args) == 3:
		dial(os.Args[2])
	case os.Args[1] == "ifaces" && len(os.Args) == 2:
		ifaces()
	case os.Args[1] == "resolve" && len(os.Args) == 3:
		resolve(os.Args[2])
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: testworkload alloc MIB | listen ADDR | dial ADDR | ifaces | resolve NAME")
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func alloc(arg string) {
	mib, err := strconv.Atoi(arg)
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

func listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fail(err)
	}
	fmt.Println("listening on", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			fail(err)
		}
		fmt.Fprintf(c, "hello from %d\n", os.Getpid())
		c.Close()
	}
}

func dial(addr string) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		fail(err)
	}
	defer c.Close()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		fail(err)
	}
	fmt.Print(line)
}

func ifaces() {
	list, err := net.Interfaces()
	if err != nil {
		fail(err)
	}
	for _, i := range list {
		fmt.Println(i.Name)
	}
}

func resolve(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := &net.Resolver{PreferGo: true}
	addrs, err := r.LookupNetIP(ctx, "ip4", name)
	if err != nil {
		fail(err)
	}
	out := "resolved"
	for _, a := range addrs {
		out += " " + a.String()
	}
	fmt.Println(out)
}
