// An HTTPS server and client in Go's own crypto/tls, for go_tls_test.py:
// the oracle is what they count themselves.
//
//	go_tls serve PORT CERT KEY  serves until stdin closes, then prints
//	                            "served 2xx=N 4xx=N 5xx=N h1=N h2=N"
//	go_tls get URL N PROTO      waits for a line on stdin, then makes N
//	                            requests cycling over /, /missing, /err
//	                            (PROTO h1: HTTP/1.1, one keep-alive
//	                            connection; h2: HTTP/2 by ALPN), then
//	                            prints "got 2xx=N 4xx=N 5xx=N"
//	go_tls restart CERT KEY N   N requests to itself whose writes start
//	                            over at a stack check (restart.go)
package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
)

type tally struct {
	sync.Mutex
	byClass map[int]int
	h1, h2  int
}

func (t *tally) add(code int, proto int) {
	t.Lock()
	defer t.Unlock()
	t.byClass[code/100]++
	if proto == 2 {
		t.h2++
	} else {
		t.h1++
	}
}

func (t *tally) String() string {
	t.Lock()
	defer t.Unlock()
	return fmt.Sprintf("2xx=%d 4xx=%d 5xx=%d", t.byClass[2], t.byClass[4],
		t.byClass[5])
}

func serve(port, cert, key string) {
	t := &tally{byClass: map[int]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		code := 200
		switch r.URL.Path {
		case "/missing":
			code = 404
		case "/err":
			code = 500
		}
		w.WriteHeader(code)
		io.WriteString(w, "hello from go\n")
		t.add(code, r.ProtoMajor)
	})
	srv := &http.Server{Addr: "127.0.0.1:" + port, Handler: mux}
	go func() {
		err := srv.ListenAndServeTLS(cert, key)
		if err != http.ErrServerClosed {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}()
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	srv.Close()
	t.Lock()
	h1, h2 := t.h1, t.h2
	t.Unlock()
	fmt.Printf("served %s h1=%d h2=%d\n", t, h1, h2)
}

func get(url string, n int, proto string) {
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		ForceAttemptHTTP2: proto == "h2",
		MaxIdleConns:      1,
	}
	if proto == "h1" {
		// A non-nil empty map turns HTTP/2 off.
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	c := &http.Client{Transport: tr}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	t := &tally{byClass: map[int]int{}}
	paths := []string{"/", "/", "/missing", "/", "/err"}
	for i := 0; i < n; i++ {
		resp, err := c.Get(url + paths[i%len(paths)])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		t.add(resp.StatusCode, resp.ProtoMajor)
	}
	fmt.Printf("got %s\n", t)
}

func main() {
	if len(os.Args) == 5 && os.Args[1] == "serve" {
		serve(os.Args[2], os.Args[3], os.Args[4])
		return
	}
	if len(os.Args) == 5 && os.Args[1] == "get" {
		n, err := strconv.Atoi(os.Args[3])
		if err == nil {
			get(os.Args[2], n, os.Args[4])
			return
		}
	}
	if len(os.Args) == 5 && os.Args[1] == "restart" {
		restartMain(os.Args[2:])
		return
	}
	fmt.Fprintln(os.Stderr, "usage: go_tls serve PORT CERT KEY | "+
		"get URL N h1|h2 | restart CERT KEY N")
	os.Exit(2)
}
