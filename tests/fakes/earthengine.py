"""A loopback fake of the Earth Engine REST service, for running the real earthengine-api client offline.

It answers what Redes uses: discovery and the algorithm list (for ee.Initialize), OAuth token exchange (for
service-account credentials whose token_uri points here), image:computePixels (pixels from a callback, as .npy
bytes of a structured array with one field per band) and image:export (the same pixels, on the grid the export
expression asks for, written as a GeoTIFF into a FakeCloudStorage) with operations whose states follow
`operation_plan`. Every request is recorded; answers to computePixels can be delayed and preceded by injected
HTTP errors.
"""
import io
import json
import os
import re
import threading
import time

import numpy as np

from tests.fakes.loopback import LoopbackServer, QuietHandler

DATA = os.path.join(os.path.dirname(__file__), "data")
PROJECT = "redes-test"


def _load(name):
  with open(os.path.join(DATA, name)) as f:
    return f.read()


class FakeEarthEngine(LoopbackServer):
  """Start with `with FakeEarthEngine(pixels) as fake:`; `fake.url` is the base URL for ee.Initialize."""

  def __init__(self, pixels=None, latency: float = 0.0, storage=None):
    self.pixels = pixels            # callable(request_body: dict) -> np.ndarray [h, w, bands] float32
    self.latency = latency
    self.storage = storage          # FakeCloudStorage receiving exported GeoTIFFs
    self.requests = []              # (method, path, body dict or None)
    self.errors = []                # HTTP statuses (None: answer normally) for the next computePixels requests
    self.operation_plan = ["RUNNING", "SUCCEEDED"]   # states each operation reports on successive polls
    self.operation_error = "Export failed: out of quota"
    self._polls = {}                # operation name -> polls so far
    self._descriptions = {}
    self._lock = threading.Lock()
    self._discovery = _load("ee_discovery_v1.json").encode()
    self._algorithms = _load("ee_algorithms.json").encode()
    super().__init__()

  def calls(self, path_suffix: str) -> list:
    with self._lock:
      return [body for _, path, body in self.requests if path.endswith(path_suffix)]

  def _record(self, method, path, body):
    with self._lock:
      self.requests.append((method, path, body))

  def _compute_pixels(self, body):
    with self._lock:
      status = self.errors.pop(0) if self.errors else None
    if self.latency:
      time.sleep(self.latency)
    if status:
      return status, "application/json", json.dumps({"error": {"code": status, "message": f"injected {status}",
                                                                "status": "UNAVAILABLE"}}).encode()
    array = self.pixels(body)
    names = body["bandIds"]
    structured = np.zeros(array.shape[:2], dtype=[(n, "<f4") for n in names])
    for i, name in enumerate(names):
      structured[name] = array[..., i]
    buffer = io.BytesIO()
    np.save(buffer, structured)
    return 200, "application/octet-stream", buffer.getvalue()

  def _export(self, body):
    """Starts an export operation; its GeoTIFF is written at once (what the real service does by the end)."""
    text = json.dumps(body["expression"])
    crs = re.search(r'"functionName": "Projection", "arguments": \{"crs": \{"constantValue": "([^"]+)"', text).group(1)
    a, b, c, d, e, f = json.loads(re.search(r'"crsTransform": \{"constantValue": (\[[^\]]+\])', text).group(1))
    width, height = json.loads(re.search(r'"coordinates": \{"constantValue": (\[[^\]]+\])', text).group(1))[2:]
    bands = json.loads(re.findall(r'"newNames": \{"constantValue": (\[[^\]]+\])', text)[-1])
    grid = {"crsCode": crs, "dimensions": {"width": width, "height": height},
            "affineTransform": {"scaleX": a, "shearX": b, "translateX": c, "shearY": d, "scaleY": e, "translateY": f}}
    array = self.pixels({"expression": body["expression"], "grid": grid, "bandIds": bands})
    destination = body["fileExportOptions"]["cloudStorageDestination"]
    self.storage.objects[f"{destination['bucket']}/{destination['filenamePrefix']}.tif"] = _geotiff(array, grid)
    with self._lock:
      name = f"projects/{PROJECT}/operations/op{len(self._descriptions) + 1}"
      self._descriptions[name] = body.get("description", "")
    return self._operation(name, poll=False)

  def _operation(self, name, poll=True):
    with self._lock:
      count = self._polls.get(name, 0)
      if poll:
        self._polls[name] = count + 1
      state = self.operation_plan[min(count, len(self.operation_plan) - 1)] if poll else "PENDING"
      description = self._descriptions.get(name, "")
    operation = {"name": name, "done": state in ("SUCCEEDED", "FAILED", "CANCELLED"),
                 "metadata": {"@type": "type.googleapis.com/google.earthengine.v1.OperationMetadata",
                              "state": state, "description": description}}
    if state == "FAILED":
      operation["error"] = {"code": 3, "message": self.operation_error}
    return 200, "application/json", json.dumps(operation).encode()

  def _handler(self):
    fake = self

    class Handler(QuietHandler):
      def _reply(self, status, content_type, payload):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

      def do_GET(self):  # pylint: disable=invalid-name
        path = self.path.split("?")[0]
        fake._record("GET", path, None)
        if path.endswith("/$discovery/rest"):
          return self._reply(200, "application/json", fake._discovery)
        if path.endswith("/algorithms"):
          return self._reply(200, "application/json", fake._algorithms)
        match = re.match(r"^/v1/(projects/[^/]+/operations/[^/]+)$", path)
        if match:
          return self._reply(*fake._operation(match.group(1)))
        return self._reply(404, "application/json", b'{"error": {"code": 404, "message": "not found"}}')

      def do_POST(self):  # pylint: disable=invalid-name
        path = self.path.split("?")[0]
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.loads(raw) if raw.startswith(b"{") else {"form": raw.decode()}
        fake._record("POST", path, body)
        if path == "/token":
          return self._reply(200, "application/json", b'{"access_token": "fake-token", "expires_in": 3600}')
        if path.endswith("/image:computePixels"):
          return self._reply(*fake._compute_pixels(body))
        if path.endswith("/image:export"):
          return self._reply(*fake._export(body))
        return self._reply(404, "application/json", b'{"error": {"code": 404, "message": "not found"}}')

    return Handler


def _geotiff(array, grid) -> bytes:
  """GeoTIFF bytes of [h, w, bands] float32 pixels on a computePixels-style grid."""
  from rasterio.io import MemoryFile  # pylint: disable=import-outside-toplevel
  from rasterio.transform import Affine  # pylint: disable=import-outside-toplevel
  t = grid["affineTransform"]
  transform = Affine(t["scaleX"], t["shearX"], t["translateX"], t["shearY"], t["scaleY"], t["translateY"])
  with MemoryFile() as memory:
    with memory.open(driver="GTiff", width=array.shape[1], height=array.shape[0], count=array.shape[2],
                     dtype="float32", crs=grid["crsCode"], transform=transform) as dst:
      dst.write(np.moveaxis(array, -1, 0))
    return memory.read()
