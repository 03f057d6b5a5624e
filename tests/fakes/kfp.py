"""A loopback fake of the Kubeflow Pipelines v2beta1 REST API: what kfp.Client calls to upload a pipeline (or a new
version of it), find or create an experiment, start a run and create a recurring run. Every request is recorded
with its parsed JSON body (multipart uploads: the form fields with their file bytes).

It refuses what the open-source API server refuses (kubeflow/pipelines 2.17.0, backend/src): a run or recurring
run whose spec holds an executor other than a container or an importer (the Argo compiler, v2/compiler/
argocompiler/dag.go: "resolver executors not implemented"), and a cron that robfig/cron v1 `cron.Parse` rejects
(apiserver/server/api_converter.go). `pipeline_root` and `next_runs` say what the backend makes of a request: the
root a run writes to (v2/driver/root_dag.go: the run's runtime_config.pipeline_root, else the cluster default
minio://mlpipeline/v2/artifacts; the spec's own defaultPipelineRoot is never read) and when a schedule fires
(robfig/cron v1: seconds first, day of week optional, in the scheduler's zone).
"""
import datetime
import email
import json
import threading
import urllib.parse
import uuid
import zoneinfo

from croniter import croniter

from tests.fakes.loopback import LoopbackServer, QuietHandler

API = "/apis/v2beta1"
DEFAULT_ROOT = "minio://mlpipeline/v2/artifacts"       # v2/config/env.go defaultPipelineRoot
EXECUTOR_KINDS = ("container", "importer")


def pipeline_root(body: dict) -> str:
  """The root a run or recurring run request makes the backend write to."""
  return (body.get("runtime_config") or {}).get("pipeline_root") or DEFAULT_ROOT


def _robfig_fields(cron: str) -> str | None:
  """The six fields robfig/cron v1 Parse reads (sec min hour dom month dow), or None when it rejects the cron."""
  fields = cron.split()
  if len(fields) not in (5, 6):
    return None
  expression = " ".join(fields + ["*"] * (6 - len(fields)))    # DowOptional
  return expression if croniter.is_valid(expression, second_at_beginning=True) else None


def next_runs(cron: str, count: int = 3, after: datetime.datetime | None = None, zone: str = "UTC") -> list:
  """When the ScheduledWorkflow controller fires a recurring run of this cron, in the scheduler's zone."""
  start = (after or datetime.datetime.now(datetime.timezone.utc)).astimezone(zoneinfo.ZoneInfo(zone))
  runs = croniter(_robfig_fields(cron), start, second_at_beginning=True)
  return [runs.get_next(datetime.datetime) for _ in range(count)]


def _refusal(body: dict) -> str | None:
  spec = body["pipeline_spec"]
  executors = spec.get("pipeline_spec", spec)["deploymentSpec"]["executors"]   # with a platform spec: both
  for label, executor in executors.items():
    kind = next(iter(executor))
    if kind not in EXECUTOR_KINDS:
      return f"Failed to create a run: compiling {label}: {kind} executors not implemented"
  cron = body.get("trigger", {}).get("cron_schedule", {}).get("cron")
  if cron is not None and _robfig_fields(cron) is None:
    return "Schedule cron is not a supported format(https://godoc.org/github.com/robfig/cron)"
  return None


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
    if (method, path) in (("POST", "/runs"), ("POST", "/recurringruns")) and _refusal(body):
      return 400, {"code": 3, "message": _refusal(body)}
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
