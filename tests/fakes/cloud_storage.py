"""A loopback fake of Google Cloud Storage: the XML endpoint as GDAL's /vsigs/ reads it (GET and HEAD with byte
ranges; point GDAL at it with CPL_GS_ENDPOINT and GS_NO_SIGN_REQUEST=YES; `objects` maps "bucket/key" to bytes),
and the JSON API's buckets as google-cloud-storage uses them (get, create, IAM policy; point the client at it with
STORAGE_EMULATOR_HOST; `buckets` holds the names)."""
import json
import re

from tests.fakes.loopback import LoopbackServer, QuietHandler


class FakeCloudStorage(LoopbackServer):

  def __init__(self):
    self.objects = {}
    self.buckets = set()
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

      def _bucket_api(self):
        """/storage/v1/b (create) and /storage/v1/b/<bucket>[/iam] (get, IAM policy get and set)."""
        path = self.path.split("?")[0].removeprefix("/storage/v1/b").strip("/")
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
        fake.requests.append((self.command, f"storage/v1/b/{path}", body))
        bucket, _, what = path.partition("/")
        if self.command == "POST" and not path:
          fake.buckets.add(body["name"])
          return self.send_json(200, {"name": body["name"], "projectNumber": "1"})
        if bucket not in fake.buckets:
          return self.send_json(404, {"error": {"code": 404, "message": f"bucket {bucket} not found"}})
        if what == "iam":
          return self.send_json(200, body if self.command == "PUT" else {"bindings": [], "etag": "CAE="})
        return self.send_json(200, {"name": bucket, "projectNumber": "1"})

      def do_GET(self):  # pylint: disable=invalid-name
        if self.path.startswith("/storage/v1/b"):
          self._bucket_api()
          return
        self._serve(True)

      do_POST = do_PUT = _bucket_api  # noqa: N815

      def do_HEAD(self):  # pylint: disable=invalid-name
        self._serve(False)

    return Handler
