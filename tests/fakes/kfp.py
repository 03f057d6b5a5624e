"""A loopback fake of the Kubeflow Pipelines v2beta1 REST API: what kfp.Client calls to upload a pipeline (or a new
version of it), find or create an experiment, start a run and create a recurring run. Every request is recorded
with its parsed JSON body (multipart uploads: the form fields with their file bytes)."""
import email
import json
import threading
import urllib.parse
import uuid

from tests.fakes.loopback import LoopbackServer, QuietHandler

API = "/apis/v2beta1"


class FakeKubeflow(LoopbackServer):
  """Start with `with FakeKubeflow() as fake:`; `fake.url` is the host for kfp.Client."""

  def __init__(self):
    self.requests = []        # (method, path, query dict, body)
    self.pipelines = {}       # display name -> pipeline id
    self.experiments = {}     # display name -> experiment id
    self._lock = threading.Lock()
    super().__init__()

  def calls(self, method: str, path: str) -> list:
    with self._lock:
      return [(query, body) for m, p, query, body in self.requests if (m, p) == (method, API + path)]

  def _answer(self, method, path, query, body):
    """(status, JSON answer) of one request."""
    name = query.get("name", [""])[0]
    if (method, path) == ("GET", "/healthz"):
      return 200, {"multi_user": False}
    if (method, path) == ("POST", "/pipelines/upload"):
      if name in self.pipelines:
        return 409, {"code": 6, "message": f"pipeline {name} already exists"}
      self.pipelines[name] = str(uuid.uuid4())
      return 200, {"pipeline_id": self.pipelines[name], "display_name": name}
    if (method, path) == ("GET", "/pipelines"):
      wanted = json.loads(query["filter"][0])["predicates"][0]["stringValue"]
      found = [{"pipeline_id": i, "display_name": n} for n, i in self.pipelines.items() if n == wanted]
      return 200, {"pipelines": found} if found else {}
    if (method, path) == ("POST", "/pipelines/upload_version"):
      return 200, {"pipeline_id": query["pipelineid"][0], "pipeline_version_id": str(uuid.uuid4()),
                   "display_name": name}
    if (method, path) == ("GET", "/experiments"):
      wanted = json.loads(query["filter"][0])["predicates"][0]["stringValue"]
      found = [{"experiment_id": i, "display_name": n} for n, i in self.experiments.items() if n == wanted]
      return 200, {"experiments": found} if found else {}
    if (method, path) == ("POST", "/experiments"):
      self.experiments[body["display_name"]] = str(uuid.uuid4())
      return 200, {"experiment_id": self.experiments[body["display_name"]], "display_name": body["display_name"]}
    if (method, path) == ("POST", "/runs"):
      return 200, {"run_id": str(uuid.uuid4()), "display_name": body["display_name"], "state": "PENDING"}
    if (method, path) == ("POST", "/recurringruns"):
      return 200, {"recurring_run_id": str(uuid.uuid4()), "display_name": body["display_name"],
                   "status": "ENABLED"}
    return 404, {"code": 5, "message": f"{method} {path} is not served by the fake"}

  def _handler(self):
    fake = self

    class Handler(QuietHandler):
      def _handle(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("multipart/"):
          form = email.message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
          body = {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                  for part in form.get_payload()}
        else:
          body = json.loads(raw) if raw else None
        with fake._lock:  # pylint: disable=protected-access
          fake.requests.append((self.command, url.path, query, body))
          path = url.path.removeprefix(API)
          status, answer = fake._answer(self.command, path, query, body)  # pylint: disable=protected-access
        self.send_json(status, answer)

      do_GET = do_POST = _handle  # noqa: N815
    return Handler
