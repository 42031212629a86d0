// goprobe - the probe of `kubesurvey probe` done by a Go client (crypto/tls +
// net/http, the stack of ZGrab2): for each target, TCP connect, a TLS
// handshake without verification keeping the peer's chain, HTTP/1.1
// GET /version, the body read up to 64 KiB. The CPU it spends per probe is
// the figure benchmarks/probe_bench.sh sets beside kubesurvey's.
//
//	goprobe -f TARGETS [-c CONCURRENCY] [-t TIMEOUT] [-p PORT]
//
// TARGETS: one "address", "address,port" or "address:port" per line (a CSV
// header line "saddr,sport" is skipped; a bare address takes -p, 443). Prints one summary line on stdout:
// "targets N ok N failed N". Only the Go standard library is used.
package main

import (
	"bufio"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func readTargets(path, defaultPort string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	err = nil
	for line := 1; s.Scan(); line++ {
		t := strings.TrimSpace(s.Text())
		if t == "" || strings.HasPrefix(t, "#") || t == "saddr,sport" {
			continue
		}
		var host, port string
		if i := strings.LastIndex(t, ","); i >= 0 {
			host, port = strings.Trim(t[:i], "[]"), t[i+1:]
		} else if net.ParseIP(t) != nil {
			host, port = t, defaultPort
		} else if host, port, err = net.SplitHostPort(t); err != nil {
			return nil, fmt.Errorf("%s:%d: %q is not an address or address,port", path, line, s.Text())
		}
		out = append(out, net.JoinHostPort(host, port))
	}
	return out, s.Err()
}

func main() {
	file := flag.String("f", "", "targets file (address,port per line)")
	concurrency := flag.Int("c", 256, "probes in flight")
	timeout := flag.Duration("t", 5*time.Second, "timeout of each probe")
	port := flag.String("p", "443", "port of targets given as a bare address")
	flag.Parse()
	if *file == "" || *concurrency < 1 {
		fmt.Fprintln(os.Stderr, "usage: goprobe -f TARGETS [-c N] [-t TIMEOUT] [-p PORT]")
		os.Exit(2)
	}
	targets, err := readTargets(*file, *port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goprobe:", err)
		os.Exit(1)
	}
	transport := &http.Transport{
		// Every probe is a new connection, as a survey's are.
		DisableKeepAlives: true,
		ForceAttemptHTTP2: false,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		DialContext:       (&net.Dialer{Timeout: *timeout}).DialContext,
	}
	client := &http.Client{Transport: transport, Timeout: *timeout}
	var ok, failed int64
	work := make(chan string)
	var wg sync.WaitGroup
	for i := 0; i < *concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for target := range work {
				req, _ := http.NewRequest("GET", "https://"+target+"/version", nil)
				req.Header.Set("User-Agent", "goprobe (kubesurvey benchmark)")
				resp, err := client.Do(req)
				if err != nil {
					atomic.AddInt64(&failed, 1)
					continue
				}
				_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				chain := 0
				if resp.TLS != nil {
					chain = len(resp.TLS.PeerCertificates)
				}
				resp.Body.Close()
				if err != nil || chain == 0 {
					atomic.AddInt64(&failed, 1)
				} else {
					atomic.AddInt64(&ok, 1)
				}
			}
		}()
	}
	for _, t := range targets {
		work <- t
	}
	close(work)
	wg.Wait()
	fmt.Printf("targets %d ok %d failed %d\n", len(targets), ok, failed)
}
