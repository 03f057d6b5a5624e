"""Benchmark of windowed enhancement, run on demand: `.venv/bin/python bench/enhance.py [--sizes 1000 4000 10000]`.

For outputs of 1,000^2, 4,000^2 and 10,000^2 pixels, each in a fresh process: output megapixels per second of
redes.publish.enhance.enhance_geotiff (reading, the default residual generator, feathered windows, the COG written) and
the process's peak resident memory. The input is the real demo Landsat 8 scene mirrored out to the size needed.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
BANDS = ("red", "green", "blue")


def _scene(path: str, side: int) -> None:
  import numpy as np
  import rasterio
  from redes.ingest import demo_data
  with rasterio.open(demo_data.landsat_reflectance_geotiff(BANDS)) as src:
    data, profile = src.read(), src.profile
  reps = -(-side // min(data.shape[1:])) + 1
  tiled = np.tile(np.concatenate([data, data[:, ::-1]], axis=1), (1, reps, reps))[:, :side, :side]
  profile.update(width=side, height=side)
  with rasterio.open(path, "w", **profile) as dst:
    dst.write(tiled)


def _model(path: str) -> None:
  import numpy as np
  from models import export
  from models.generators import build_generator
  generator = build_generator("residual", 3, 3, np.full(3, 0.1, np.float32), np.full(3, 0.05, np.float32))
  export.export_model(generator, path, BANDS, 96, 3, name="residual", trackable=generator)


def _one(model_dir: str, scene: str, out: str) -> dict:
  """Runs in the child process: enhance one scene, report seconds and peak memory."""
  from redes.publish.enhance import Enhancer, enhance_geotiff
  enhancer = Enhancer(model_dir)
  started = time.time()
  profile = enhance_geotiff(scene, out, enhancer)
  seconds = time.time() - started
  return {"output_px": profile["width"] * profile["height"], "seconds": seconds,
          "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
  parser = argparse.ArgumentParser()
  parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 10000], help="output sides, pixels")
  parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.child:
    print(json.dumps(_one(*args.child)))
    return
  work = tempfile.mkdtemp(prefix="redes-bench-enhance-")
  model_dir = os.path.join(work, "model")
  _model(model_dir)
  print(f"{'output':>13} {'Mpx':>7} {'seconds':>8} {'Mpx/s':>6} {'peak RSS MiB':>13}")
  for side in args.sizes:
    scene, out = os.path.join(work, f"in_{side}.tif"), os.path.join(work, f"out_{side}.tif")
    _scene(scene, -(-side // 3))
    child = subprocess.run([sys.executable, __file__, "--child", model_dir, scene, out], check=True,
                           capture_output=True, text=True)
    result = json.loads(child.stdout.strip().splitlines()[-1])
    mpx = result["output_px"] / 1e6
    print(f"{side:>6}^2 px {mpx:7.1f} {result['seconds']:8.1f} {mpx / result['seconds']:6.2f} "
          f"{result['peak_rss_mib']:13.0f}")
    os.remove(out)


if __name__ == "__main__":
  main()
