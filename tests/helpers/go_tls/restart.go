// go_tls restart CERT KEY N: N HTTP/1.1 requests over one TLS connection
// of this process to itself, each request and each response written by
// a new goroutine that first recurses i levels (i = 0..N-1), so that for
// some i the goroutine's stack is full exactly at (*tls.Conn).Write's
// stack check: the runtime grows the stack and Write starts over from
// its first instruction, where the entry uprobe fires a second time for
// one call. (The scheduler's preemption requests take the same path:
// a Write entered while the GC scans stacks starts over too.) Prints
// "ready", waits for a line on stdin, then prints
// "restart requests=N served=N".
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"os"
)

// pad recurses n levels and then runs f: the frames below f are the
// stack it has to grow past.
//
//go:noinline
func pad(n int, f func()) {
	if n == 0 {
		f()
		return
	}
	pad(n-1, f)
}

// writeFrom writes b on c from a new goroutine, i frames deep.
func writeFrom(c *tls.Conn, b []byte, i int) error {
	done := make(chan error)
	go pad(i, func() {
		_, err := c.Write(b)
		done <- err
	})
	return <-done
}

// readMessage reads up to the blank line that ends a header block (no
// bodies here), leaving what follows in *rest.
func readMessage(c *tls.Conn, rest *[]byte) ([]byte, error) {
	buf := make([]byte, 4096)
	for {
		if i := bytes.Index(*rest, []byte("\r\n\r\n")); i >= 0 {
			msg := (*rest)[:i+4]
			*rest = (*rest)[i+4:]
			return msg, nil
		}
		n, err := c.Read(buf)
		if err != nil {
			return nil, err
		}
		*rest = append(*rest, buf[:n]...)
	}
}

func restart(cert, key string, n int) error {
	kp, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	served := make(chan int)
	go func() {
		count := 0
		defer func() { served <- count }()
		raw, err := ln.Accept()
		if err != nil {
			return
		}
		c := tls.Server(raw, &tls.Config{Certificates: []tls.Certificate{kp}})
		defer c.Close()
		if c.Handshake() != nil {
			return
		}
		var rest []byte
		resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
		for i := 0; ; i++ {
			if _, err := readMessage(c, &rest); err != nil {
				return
			}
			if writeFrom(c, resp, i) != nil {
				return
			}
			count++
		}
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(),
		&tls.Config{InsecureSkipVerify: true})
	if err != nil {
		return err
	}
	var rest []byte
	done := 0
	for i := 0; i < n; i++ {
		req := fmt.Sprintf("GET /%d HTTP/1.1\r\nHost: rl\r\n\r\n", i)
		if err := writeFrom(c, []byte(req), i); err != nil {
			return err
		}
		if _, err := readMessage(c, &rest); err != nil {
			return err
		}
		done++
	}
	c.Close()
	fmt.Printf("restart requests=%d served=%d\n", done, <-served)
	return nil
}

func restartMain(args []string) {
	var n int
	if _, err := fmt.Sscan(args[2], &n); err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "restart: N must be a positive number")
		os.Exit(2)
	}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	if err := restart(args[0], args[1], n); err != nil {
		fmt.Fprintln(os.Stderr, "restart:", err)
		os.Exit(1)
	}
}
