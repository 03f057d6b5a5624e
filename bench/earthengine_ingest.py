"""Benchmark of Earth Engine ingestion against the loopback fake (the real ee client over HTTP), run on demand:

    .venv/bin/python bench/earthengine_ingest.py

1. patches per second at concurrency 1, 4, 16 and 32 with 200 ms added to every computePixels answer;
2. bytes per example on disk and peak memory of PatchExampleGen (download + Beam) as sample_size grows 10x.
Pixels come from the embedded demo Sentinel-2 scene (tests/fakes/demo_pixels.py).
"""
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
LATENCY = 0.2
SCENE_BOX = (-75.72, 37.59, -75.52, 37.755)   # most of the demo scene


def _regions(folder, boxes):
  paths = {}
  for split, (w, s, e, n) in boxes.items():
    paths[split] = os.path.join(folder, f"{split}.geojson")
    with open(paths[split], "w") as f:
      json.dump({"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}, f)
  return paths


def _fake_environment(fake, key):
  os.environ.update({"EE_PRIVATE_KEY": json.dumps({**key, "token_uri": f"{fake.url}/token"}),
                     "PROJECT_ID": "redes-test"})


def _service_account_key():
  from cryptography.hazmat.primitives import serialization
  from cryptography.hazmat.primitives.asymmetric import rsa
  pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
      serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
  return {"type": "service_account", "project_id": "redes-test", "private_key": pem, "token_uri": "",
          "client_email": "bench@redes-test.iam.gserviceaccount.com"}


def throughput():
  import dataclasses
  import ee
  from pipeline.configs import DataConfig, RunConfig
  from pipeline.pipeline import source_config
  from redes.ingest.earthengine import credentials, dataset
  from tests.fakes.demo_pixels import DemoPixels
  from tests.fakes.earthengine import FakeEarthEngine
  ee.deprecation._FetchDataCatalogStac = lambda: {}  # pylint: disable=protected-access
  print(f"patches per second, {LATENCY * 1000:.0f} ms per request, 2 requests (30 m and 10 m) per patch")
  with FakeEarthEngine(DemoPixels(), latency=LATENCY) as fake, tempfile.TemporaryDirectory() as tmp:
    _fake_environment(fake, _service_account_key())
    credentials.initialize(url=fake.url)
    ee.data.setMaxRetries(0)
    boxes = {s: SCENE_BOX for s in ("train", "eval", "test")}
    base = None
    for concurrency in (1, 4, 16, 32):
      n = 16 if concurrency == 1 else 8 * concurrency
      defaults = dataset.from_source_config(json.loads(source_config(RunConfig(data=DataConfig(source="earthengine")))),
                                            "rgb", 96, 3)
      ds = dataclasses.replace(defaults, geojsons=_regions(tmp, boxes), sample_size=n, concurrency=concurrency,
                               dataset_name=f"c{concurrency}")
      planned = {"train": dataset.plan(ds)["train"]}
      started = time.time()
      dataset.download(ds, planned, os.path.join(tmp, "cache"))
      rate = n / (time.time() - started)
      base = base or rate
      print(f"  concurrency {concurrency:>2}: {n:>3} patches, {rate:6.2f} patches/s, {rate / base:5.1f}x of one")


def footprint(sample_size: int):
  """In a child process: PatchExampleGen on sample_size patches per split; prints bytes/example and peak RSS."""
  code = f"""
import json, os, resource, sys, tempfile
sys.path.insert(0, {ROOT!r})
import ee
ee.deprecation._FetchDataCatalogStac = lambda: {{}}
from bench.earthengine_ingest import _fake_environment, _regions, _service_account_key, SCENE_BOX
from tests.fakes.demo_pixels import DemoPixels
from tests.fakes.earthengine import FakeEarthEngine
from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
from tfx.types import standard_artifacts
from components.patch_example_gen.component import PatchExampleGen
from components.patch_example_gen.executor import Executor
from pipeline.configs import DataConfig, EarthEngineConfig, RunConfig
from pipeline.pipeline import source_config
with FakeEarthEngine(DemoPixels()) as fake, tempfile.TemporaryDirectory() as tmp:
  _fake_environment(fake, _service_account_key())
  boxes = {{s: SCENE_BOX for s in ("train", "eval", "test")}}
  regions = _regions(tmp, boxes)
  settings = RunConfig(data=DataConfig(source="earthengine", bands="rgbn"), earthengine=EarthEngineConfig(
      geojsons=tuple(regions[s] for s in ("train", "eval", "test")), sample_size={sample_size}, concurrency=16,
      ee_url=fake.url, cache_dir=os.path.join(tmp, "cache")))
  gen = PatchExampleGen(source="earthengine", bands="rgbn", patch_size=96, scaling_factor=3,
                        source_config=source_config(settings))
  examples = standard_artifacts.Examples()
  examples.uri = os.path.join(tmp, "examples")
  Executor(BaseBeamExecutor.Context(beam_pipeline_args=["--runner=FnApiRunner"], tmp_dir=tmp)).Do(
      {{}}, {{"examples": [examples]}}, dict(gen.exec_properties))
  size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(examples.uri) for f in fs if f.endswith(".gz"))
  peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
  print(f"  sample_size {sample_size:>3}: {3 * sample_size} examples, {{size / {3 * sample_size} / 1024:.1f}} KiB "
        f"per example (RGB+NIR, 96 px), peak memory {{peak:.0f}} MiB")
"""
  subprocess.run([sys.executable, "-c", code], check=True, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
  throughput()
  print("PatchExampleGen (source=earthengine), three splits")
  for size in (10, 100):
    footprint(size)
