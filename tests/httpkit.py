# -*- coding: utf-8 -*-
"""A real HTTP server on 127.0.0.1 for the health gate tests (a monitor, a login page)."""

import contextlib
import http.server
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    """A handler that logs nothing and answers in one call."""

    def answer(self, status, body=b'', headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(handler):
    """Serve with handler (a Handler subclass) in threads; yields the port."""
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
