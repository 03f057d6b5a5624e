"""A loopback fake of the Vertex AI REST API as google-cloud-aiplatform uses it for pipelines: creating a
PipelineJob and a Schedule, and reading them back. Every request is recorded with its JSON body."""
import json
import threading

from tests.fakes.loopback import LoopbackServer, QuietHandler


class FakeVertex(LoopbackServer):
  """Start with `with FakeVertex() as fake:`; pass `fake.url` as the API endpoint."""

  def __init__(self):
    self.requests = []          # (method, path without query, body)
    self.resources = {}         # resource name -> JSON
    self._lock = threading.Lock()
    super().__init__()

  def created(self, collection: str) -> list:
    with self._lock:
      return [body for method, path, body in self.requests if method == "POST" and path.endswith(f"/{collection}")]

  def _answer(self, method, path, body):
    if method == "POST":
      collection = path.rsplit("/", 1)[-1]
      name = f"{path.removeprefix('/v1/')}/{len(self.resources) + 1}"
      state = {"pipelineJobs": {"state": "PIPELINE_STATE_PENDING"}, "schedules": {"state": "ACTIVE"}}[collection]
      self.resources[name] = {**body, "name": name, **state}
      return 200, self.resources[name]
    name = path.removeprefix("/v1/")
    return (200, self.resources[name]) if name in self.resources else (404, {"error": {"code": 404}})

  def _handler(self):
    fake = self

    class Handler(QuietHandler):
      def _handle(self):
        path = self.path.split("?")[0]
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.loads(raw) if raw else None
        with fake._lock:  # pylint: disable=protected-access
          fake.requests.append((self.command, path, body))
          status, answer = fake._answer(self.command, path, body)  # pylint: disable=protected-access
        self.send_json(status, answer)

      do_GET = do_POST = _handle  # noqa: N815
    return Handler
