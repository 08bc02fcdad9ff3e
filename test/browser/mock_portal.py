#!/usr/bin/python3
"""A stand-in for the user firewall's HTTPS login portal, for testing the browser driver
(portal_login.py) without a box: the same form (username, password, an access-type select with
"User firewall", posting to /login), a success page naming the template and its expiry with a
logout button, POST /logout. One user, one template. Usage:
  mock_portal.py ADDRESS PORT CERT KEY USER PASSWORD TEMPLATE
"""
import html
import http.server
import ssl
import sys
import urllib.parse

address, port, cert, key, USER, PASSWORD, TEMPLATE = sys.argv[1:8]
sessions = set()

LOGIN = """<!doctype html><html><head><meta charset="utf-8"><title>Login</title></head><body>
<h1>mock portal</h1><form method="post" action="/login">
<label>Access type <select name="access_type"><option>Administration</option>
<option selected>User firewall</option></select></label>
<label>User name <input name="username"></label> <label>Password <input type="password" name="password"></label>
<button type="submit">Log in</button></form></body></html>"""


class Handler(http.server.BaseHTTPRequestHandler):
    def page(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.page(200, LOGIN)

    def do_POST(self):
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
        if self.path == "/login":
            if form.get("username") == [USER] and form.get("password") == [PASSWORD]:
                sessions.add(self.client_address[0])
                self.page(200, f"""<!doctype html><html><body><h1>Logged in as {html.escape(USER)}</h1>
<p>Template <b>{html.escape(TEMPLATE)}</b>, expires 2026-12-07 23:59:59 UTC</p>
<form method="post" action="/logout"><button type="submit">Log out</button></form></body></html>""")
            else:
                self.page(401, "<html><body>Login failed</body></html>")
        elif self.path == "/logout":
            sessions.discard(self.client_address[0])
            self.page(200, "<html><body><p>You are logged out.</p><a href='/'>Log in again</a></body></html>")
        else:
            self.page(404, "not found")


server = http.server.ThreadingHTTPServer((address, int(port)), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print("listening", flush=True)
server.serve_forever()
