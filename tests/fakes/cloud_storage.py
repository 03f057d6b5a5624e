"""A loopback fake of Google Cloud Storage's XML endpoint as GDAL's /vsigs/ reads it (GET and HEAD with byte
ranges). Point GDAL at it with CPL_GS_ENDPOINT and GS_NO_SIGN_REQUEST=YES; `objects` maps "bucket/key" to bytes."""
import http.server
import re
import threading


class FakeCloudStorage:

  def __init__(self):
    self.objects = {}
    self.requests = []
    self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
    self._server.daemon_threads = True
    self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}/"

  def __enter__(self):
    threading.Thread(target=self._server.serve_forever, daemon=True).start()
    return self

  def __exit__(self, *exc):
    self._server.shutdown()
    self._server.server_close()

  def _handler(self):
    fake = self

    class Handler(http.server.BaseHTTPRequestHandler):
      def log_message(self, *args):
        pass

      def _serve(self, with_body: bool):
        key = self.path.split("?")[0].lstrip("/")
        fake.requests.append((self.command, key, self.headers.get("Range")))
        data = fake.objects.get(key)
        if data is None:
          self.send_response(404)
          self.send_header("Content-Length", "0")
          self.end_headers()
          return
        match = re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if match:
          start = int(match.group(1))
          end = min(int(match.group(2) or len(data) - 1), len(data) - 1)
          chunk = data[start:end + 1]
          self.send_response(206)
          self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        else:
          chunk = data
          self.send_response(200)
        self.send_header("Content-Length", str(len(chunk)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if with_body:
          self.wfile.write(chunk)

      def do_GET(self):  # pylint: disable=invalid-name
        self._serve(True)

      def do_HEAD(self):  # pylint: disable=invalid-name
        self._serve(False)

    return Handler
