"""The HTTP server under every loopback fake: 127.0.0.1, a free port, one thread per request, quiet."""
import http.server
import json
import threading


class LoopbackServer:
  """Base of the fakes: subclasses give `_handler()` (a BaseHTTPRequestHandler class); use as a context manager."""

  def __init__(self):
    self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler(), bind_and_activate=False)
    self._server.daemon_threads = True
    self._server.request_queue_size = 256   # many clients at once must queue, not be reset
    self._server.server_bind()
    self._server.server_activate()
    self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

  def __enter__(self):
    threading.Thread(target=self._server.serve_forever, daemon=True).start()
    return self

  def __exit__(self, *exc):
    self._server.shutdown()
    self._server.server_close()

  def _handler(self):
    raise NotImplementedError


class QuietHandler(http.server.BaseHTTPRequestHandler):
  def log_message(self, *args):  # pylint: disable=arguments-differ
    pass

  def send_json(self, status: int, answer) -> None:
    payload = json.dumps(answer).encode()
    self.send_response(status)
    self.send_header("Content-Type", "application/json")
    self.send_header("Content-Length", str(len(payload)))
    self.end_headers()
    self.wfile.write(payload)
