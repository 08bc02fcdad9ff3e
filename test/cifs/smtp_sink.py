#!/usr/bin/python3
"""A minimal SMTP server for tests: accepts every message on 127.0.0.1:PORT and appends it to FILE,
each followed by a line '=== END OF MESSAGE ==='. No STARTTLS, no authentication.
Usage: smtp_sink.py PORT FILE"""
import socketserver
import sys

PORT, OUT = int(sys.argv[1]), sys.argv[2]


class Session(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write((text + "\r\n").encode())

    def handle(self):
        try:
            self.session()
        except ConnectionError:
            pass  # readiness probes connect and hang up

    def session(self):
        self.reply("220 sink ESMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.decode(errors="replace").strip().split(" ")[0].upper()
            if verb == "EHLO":
                self.reply("250-sink")
                self.reply("250 8BITMIME")
            elif verb == "DATA":
                self.reply("354 go ahead")
                body = []
                while True:
                    data = self.rfile.readline()
                    if not data or data == b".\r\n":
                        break
                    body.append(data.decode(errors="replace"))
                with open(OUT, "a") as f:
                    f.write("".join(body) + "=== END OF MESSAGE ===\n")
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


socketserver.ThreadingTCPServer.allow_reuse_address = True
with socketserver.ThreadingTCPServer(("127.0.0.1", PORT), Session) as server:
    server.serve_forever()
