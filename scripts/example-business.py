#!/usr/bin/env python3
"""example-business.py - a tiny business service for wxfcgi's upstream handler.

Usage: example-business.py [--host H] [--port P] [--delay SECONDS]
                           [--calls FILE] [--raw]

wxfcgi ([wxfcgi] handler = upstream, [upstream] url = http://H:P/) POSTs
each message it receives from WeChat here as one JSON object, the XML
element names kept:

    {"ToUserName":"gh_..","FromUserName":"oAbc..","CreateTime":1348831860,
     "MsgType":"text","Content":"hello","MsgId":"1234567890123456"}

with the header X-Wx-Account naming the account the message came to
("default" for [wx], else the NAME of [account.NAME]): a service of several
accounts tells them apart by it, and sends it on to wxproxy with its own API
calls.  wxfcgi turns the JSON answer into the passive reply:

    {"type":"text","content":"..."}            {"type":"image","media_id":".."}
    {"type":"voice","media_id":".."}           {"type":"video","media_id":"..",
    {"type":"news","articles":[{"title",        "title":"..","description":".."}
      "description","picurl","url"}]}          {"type":"music","thumb_media_id":..}
    {"type":"transfer_customer_service"}       {"type":"success"} or an empty body

This one answers a text with a text ("You said: ..."), a new follower with
a welcome, and everything else with success.  An answer slower than
wxfcgi's reply_budget_ms reaches the follower as a customer-service message.

Options:
  --host H         address to listen on (default 127.0.0.1)
  --port P         port (default 9000)
  --delay SECONDS  wait this long before each answer (a slow service)
  --calls FILE     append each message received to FILE, one JSON per line,
                   with the X-Wx-Account header as the field "X-Wx-Account"
  --raw            a text "!raw BODY" is answered with BODY as it is (tests:
                   every reply type, broken JSON); other texts as usual

Only Python 3's standard library is used.  Stop it with Ctrl-C or TERM.
"""
import argparse
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def answer(msg, raw):
    """The JSON answer (bytes) to one message."""
    if msg.get("MsgType") == "text":
        content = msg.get("Content", "")
        if raw and content.startswith("!raw "):
            return content[5:].encode("utf-8")
        reply = {"type": "text", "content": "You said: " + content}
    elif msg.get("MsgType") == "event" and msg.get("Event") == "subscribe":
        reply = {"type": "text", "content": "Welcome! Send me anything."}
    else:
        reply = {"type": "success"}
    return json.dumps(reply, ensure_ascii=False).encode("utf-8")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "example-business/1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            msg = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self.send_error(400, "not JSON")
            return
        opts = self.server.opts
        account = self.headers.get("X-Wx-Account")
        if opts.calls:
            if account is not None and isinstance(msg, dict):
                msg = dict(msg, **{"X-Wx-Account": account})
            with LOCK, open(opts.calls, "a", encoding="utf-8") as f:
                f.write(json.dumps(msg, ensure_ascii=False) + "\n")
        if opts.delay > 0:
            time.sleep(opts.delay)
        body = answer(msg, opts.raw)
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # wxfcgi gave up waiting (upstream timeout_ms)

    def log_message(self, fmt, *args):
        sys.stderr.write("example-business: %s\n" % (fmt % args))


def main():
    ap = argparse.ArgumentParser(description="A tiny business service for wxfcgi.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9000)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--calls")
    ap.add_argument("--raw", action="store_true")
    opts = ap.parse_args()
    server = ThreadingHTTPServer((opts.host, opts.port), Handler)
    server.daemon_threads = True
    server.opts = opts
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.stderr.write("example-business: listening on http://%s:%d/\n" % (opts.host, opts.port))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    server.server_close()


if __name__ == "__main__":
    main()
