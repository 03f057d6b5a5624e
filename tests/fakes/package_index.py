"""A loopback fake of a package index's simple API as PyPI serves it (PEP 691): `/<project>/` answers JSON when the
Accept header asks for `application/vnd.pypi.simple.v1+json` and HTML otherwise, and the files it lists are served
from `/packages/<file name>`; point the code at it with PIP_INDEX_URL=<url>/simple. `archives` maps a file name to
its bytes."""
import hashlib
import html

from tests.fakes.loopback import LoopbackServer, QuietHandler

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


class FakePackageIndex(LoopbackServer):

  def __init__(self):
    self.archives = {}
    self.requests = []
    super().__init__()

  def _files(self, project: str) -> list:
    return [{"filename": name, "url": f"{self.url}/packages/{name}", "size": len(data),
             "hashes": {"sha256": hashlib.sha256(data).hexdigest()}, "yanked": False}
            for name, data in sorted(self.archives.items()) if name.startswith(f"{project}-")]

  def _handler(self):
    fake = self

    class Handler(QuietHandler):
      def _send(self, content_type: str, payload: bytes):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

      def do_GET(self):  # pylint: disable=invalid-name
        fake.requests.append((self.path, self.headers.get("Accept")))
        if self.path.startswith("/packages/") and self.path[len("/packages/"):] in fake.archives:
          return self._send("application/octet-stream", fake.archives[self.path[len("/packages/"):]])
        if self.path.startswith("/simple/"):
          project = self.path[len("/simple/"):].strip("/")
          files = fake._files(project)  # pylint: disable=protected-access
          if JSON_TYPE in (self.headers.get("Accept") or ""):
            return self.send_json(200, {"meta": {"api-version": "1.1"}, "name": project, "files": files})
          links = "".join(f'<a href="{html.escape(f["url"])}">{html.escape(f["filename"])}</a>' for f in files)
          return self._send("text/html", f"<!DOCTYPE html><html><body>{links}</body></html>".encode())
        self.send_json(404, {"message": "Not Found"})

    return Handler
