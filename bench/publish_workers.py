"""Benchmark of publishing over Beam workers, run on demand: `.venv/bin/python bench/publish_workers.py`.

`redes tiles` publishes four yearly frames (the Pensacola Landsat 8 scene and three copies of it 10 to 30 % brighter or
darker; 627 x 603 px at 30 m, enhanced x3 by the bicubic model) at zoom 10-16, with one Beam worker (in this
process), with `--workers` threads (the default runner) and with as many worker processes (Beam's multi-process
local runner), each into a fresh folder, side by side in one run. Prints the seconds of each, the speed-ups, and
whether all wrote the same bytes (every COG and tile, animated ones included).
"""
import argparse
import contextlib
import hashlib
import io
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
GAINS = {"2019": 1.0, "2020": 1.1, "2021": 0.9, "2022": 1.3}


def _digests(folder: str) -> dict[str, str]:
  digests = {}
  for d, _, names in os.walk(folder):
    for name in names:
      if name.endswith((".tif", ".png")):
        with open(os.path.join(d, name), "rb") as f:
          digests[os.path.relpath(os.path.join(d, name), folder)] = hashlib.sha256(f.read()).hexdigest()
  return digests


def main() -> None:
  parser = argparse.ArgumentParser()
  parser.add_argument("--workers", type=int, default=2)
  args = parser.parse_args()
  import functools
  import rasterio
  from models import export
  from pipeline import cli
  from redes.ingest import demo_data
  from redes.publish.publishing_pipeline import local_beam_args
  from redes.resampling import bicubic_upsample
  work = tempfile.mkdtemp(prefix="redes-bench-publish-")
  model_dir = os.path.join(work, "bicubic")
  bands = ("red", "green", "blue")
  export.export_model(functools.partial(bicubic_upsample, scale=3), model_dir, bands, 96, 3, name="bicubic")
  frames = []
  with rasterio.open(demo_data.landsat_reflectance_geotiff(bands)) as src:
    data, profile = src.read(), src.profile
  for year, gain in GAINS.items():
    path = os.path.join(work, f"{year}.tif")
    with rasterio.open(path, "w", **profile) as dst:
      dst.write(data * gain)
    frames.append(f"{year}={path}")
  seconds, digests = {}, {}
  runs = {"1 worker": local_beam_args(1), f"{args.workers} threads": local_beam_args(args.workers),
          f"{args.workers} processes": local_beam_args(args.workers, "multi_processing")}
  for name, beam_args in runs.items():
    folder = os.path.join(work, name.replace(" ", "_"))
    os.makedirs(folder)
    started = time.time()
    with contextlib.redirect_stdout(io.StringIO()):
      assert cli.main(["tiles", "--model", model_dir, "--folder-path", folder, "--region-name", "demo",
                       "--frames", *frames, "--min-z", "10", "--max-z", "16",
                       *[f"--beam-arg={a}" for a in beam_args]]) == 0
    seconds[name] = time.time() - started
    digests[name] = _digests(folder)
  tiles = sum(name.endswith(".png") for name in digests["1 worker"])
  print(f"{len(GAINS)} frames, zoom 10-16: {tiles} tiles (animated included), {len(digests['1 worker']) - tiles} COGs")
  for name, value in seconds.items():
    print(f"{name:>12}: {value:6.1f} s, {tiles / value:6.1f} tiles/s, speed-up {seconds['1 worker'] / value:.2f}x, "
          f"same bytes as 1 worker: {digests[name] == digests['1 worker']}")


if __name__ == "__main__":
  main()
