#!/usr/bin/env python3
"""The company web server of the user firewall test: web_server.py ADDRESS CERT KEY.

HTTP on ADDRESS:80 and HTTPS on ADDRESS:443 (CERT, KEY: a throwaway certificate), HTTP/1.1 with
keep-alive, so that one client connection can carry many requests. GET / answers
"company server (http|https)"; every request is logged to stderr as "SOURCE - ... "GET / ..."".
"""
import http.server
import ssl
import sys
import threading

address, cert, key = sys.argv[1:4]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60

    def do_GET(self):
        body = f"company server ({self.server.scheme})\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(port, scheme):
    server = http.server.ThreadingHTTPServer((address, port), Handler)
    server.daemon_threads = True
    server.scheme = scheme
    if scheme == "https":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


threading.Thread(target=serve, args=(443, "https"), daemon=True).start()
serve(80, "http")
