"""A loopback fake of Google Cloud Storage's XML endpoint as GDAL's /vsigs/ reads it (GET and HEAD with byte
ranges). Point GDAL at it with CPL_GS_ENDPOINT and GS_NO_SIGN_REQUEST=YES; `objects` maps "bucket/key" to bytes."""
import re

from tests.fakes.loopback import LoopbackServer, QuietHandler


class FakeCloudStorage(LoopbackServer):

  def __init__(self):
    self.objects = {}
    self.requests = []
    super().__init__()
    self.endpoint = f"{self.url}/"

  def _handler(self):
    fake = self

    class Handler(QuietHandler):
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
