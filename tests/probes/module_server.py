#!/usr/bin/env python3
"""module_server.py - kubelet- and etcd-shaped HTTP(S) servers for the probe
module tests (tests/probes/test_modules.sh), run in the target namespace.

    module_server.py CERT KEY CA LOG SPEC...

Each SPEC is ADDRESS:PORT:MODE:TRANSPORT, TRANSPORT one of plain, tls,
tls-ask (asks for a client certificate, serves without one) and tls-require
(refuses a client without one). Every request line is appended to LOG as
"ADDRESS:PORT METHOD PATH", so the test can check that a module asks for
nothing but its one path. MODE is what the server answers (the bodies are
the kubelet's and etcd's own, docs/probes.md, "Modules"):

  kubelet-authn    401 "Unauthorized" to every path (anonymous auth off)
  kubelet-authz    403 "Forbidden (user=system:anonymous, ...)" (Webhook denies)
  kubelet-open     /healthz 200 "ok"; every other path a pod list (AlwaysAllow)
  kubelet-failing  /healthz 500 with the failed check (anonymous, unhealthy)
  etcd             /version {"etcdserver":"3.5.9","etcdcluster":"3.5.0"}
  apiserver        /version a Kubernetes version.Info (v1.29.4)
Hostile variants (nothing a kubelet or etcd sends):
  html-401         401 with an HTML page
  ok-json          200 {"status":"ok"}
  etcd-number      /version {"etcdserver":5}
  etcd-long        /version with a 5000-character etcdserver
  etcd-text        /version 200 "etcd 3.5.9" (not JSON)
  endless          200, a body that never ends (the probe keeps --max-body)
"""
import http.server
import socketserver
import ssl
import sys
import threading

POD_LIST = b'{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}'
FORBIDDEN = b"Forbidden (user=system:anonymous, verb=get, resource=nodes, subresource=proxy)"
FAILING = b"[+]ping ok\n[+]log ok\n[-]syncloop failed: reason withheld\nhealthz check failed\n"


def answer(mode, path):
    """(status, content type, body) of MODE for PATH; body None = endless."""
    text = "text/plain; charset=utf-8"
    if mode == "kubelet-authn":
        return 401, text, b"Unauthorized"
    if mode == "kubelet-authz":
        return 403, text, FORBIDDEN
    if mode == "kubelet-open":
        return (200, text, b"ok") if path == "/healthz" else (200, "application/json", POD_LIST)
    if mode == "kubelet-failing":
        return (500, text, FAILING) if path == "/healthz" else (200, "application/json", POD_LIST)
    if mode == "etcd":
        return 200, "application/json", b'{"etcdserver":"3.5.9","etcdcluster":"3.5.0"}'
    if mode == "apiserver":
        return 200, "application/json", (b'{"major":"1","minor":"29","gitVersion":"v1.29.4",'
                                         b'"gitCommit":"55019c83b0fd51ef4ced8c29eec2c4847f896e74",'
                                         b'"platform":"linux/amd64"}')
    if mode == "html-401":
        return 401, "text/html", b"<html><body><h1>401 Authorization Required</h1></body></html>"
    if mode == "ok-json":
        return 200, "application/json", b'{"status":"ok"}'
    if mode == "etcd-number":
        return 200, "application/json", b'{"etcdserver":5,"etcdcluster":"3.5.0"}'
    if mode == "etcd-long":
        return 200, "application/json", b'{"etcdserver":"3.' + b"5" * 5000 + b'"}'
    if mode == "etcd-text":
        return 200, text, b"etcd 3.5.9"
    if mode == "endless":
        return 200, text, None
    raise SystemExit("module_server.py: unknown mode " + mode)


def handler_for(mode, where, log, lock):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            with lock:
                log.write("%s %s %s\n" % (where, self.command, self.path))
                log.flush()
            status, ctype, body = answer(mode, self.path)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if body is None:
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for _ in range(100000):  # bounded: 100000 x 1 KiB at most
                        self.wfile.write(b"x" * 1024)
                except OSError:
                    pass
                return
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_PUT = do_DELETE = do_GET

    return Handler


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    if len(sys.argv) < 6:
        raise SystemExit(__doc__)
    cert, key, ca, log_path = sys.argv[1:5]
    log = open(log_path, "a")
    lock = threading.Lock()
    servers = []
    for spec in sys.argv[5:]:
        address, port, mode, transport = spec.split(":")
        server = Server((address, int(port)), handler_for(mode, address + ":" + port, log, lock))
        if transport != "plain":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            if transport in ("tls-ask", "tls-require"):
                ctx.load_verify_locations(ca)
                ctx.verify_mode = ssl.CERT_OPTIONAL if transport == "tls-ask" else ssl.CERT_REQUIRED
            server.socket = ctx.wrap_socket(server.socket, server_side=True)
        servers.append(server)
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
