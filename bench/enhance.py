"""Benchmark of block-wise enhancement, run on demand:
`.venv/bin/python bench/enhance.py [--sizes 1000x1000 4000x4000 10000x10000 30000x3000]`.

For each output size (width x height, pixels), in a fresh process: output megapixels per second of
redes.publish.enhance.enhance_geotiff (reading, the default residual generator on blocks with their halo, the COG and
its overviews written) and the process's peak resident memory, against the generator's own throughput measured in the
same process just before each frame (this machine's speed drifts by 10-30% within minutes): its `enhance` signature on
one block of BLOCK^2 input pixels, nothing read or written (the median of 7 calls, after a first). The scene is
enhanced NEXT + 1 times: `first` is the process's first frame, which also pays what a process pays once (GDAL's and
PROJ's start, the C heap's first pages, the model's first call on that shape), and `next` the frames after it, as
each frame of a time series but the first: the like of the generator's figure, which leaves out its own first call
(the medians of the NEXT frames' generator figures, seconds and ratios, each ratio against the figure measured just
before its frame). The model's last convolution gets small random weights, so that its receptive radius (the halo)
is a trained model's.
The input is the real Pensacola Landsat 8 scene (redes.ingest.demo_data) mirrored out to the size needed.

With `--workers N`, the last size is also enhanced through the publishing pipeline (strip by strip, the strips'
parts put together into the COG) with one worker, N threads and N worker processes, each in a fresh process:
seconds, and whether each COG is the same bytes as the one worker's.
"""
import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
BANDS = ("red", "green", "blue")
NEXT = 3


def _scene(path: str, width: int, height: int) -> None:
  import numpy as np
  import rasterio
  from redes.ingest import demo_data
  with rasterio.open(demo_data.landsat_reflectance_geotiff(BANDS)) as src:
    data, profile = src.read(), src.profile
  mirrored = np.concatenate([data, data[:, ::-1]], axis=1)
  reps = (1, -(-height // mirrored.shape[1]), -(-width // mirrored.shape[2]))
  tiled = np.tile(mirrored, reps)[:, :height, :width]
  profile.update(width=width, height=height)
  with rasterio.open(path, "w", **profile) as dst:
    dst.write(tiled)


def _model(path: str) -> None:
  import numpy as np
  from models import export
  from models.generators import build_generator
  generator = build_generator("residual", 3, 3, np.full(3, 0.1, np.float32), np.full(3, 0.05, np.float32))
  last = generator.get_layer("to_subpixels")   # starts at zero (bicubic); a trained model's reaches its whole field
  last.kernel.assign(np.random.default_rng(0).normal(0, 1e-3, last.kernel.shape).astype(np.float32))
  export.export_model(generator, path, BANDS, 96, 3, name="residual", trackable=generator)


def _one(model_dir: str, scene: str, out: str) -> dict:
  """Runs in the child process: twice the generator alone, then the scene enhanced; its throughputs, the seconds of
  each frame and the peak memory."""
  import numpy as np
  from redes.publish.blocks import BLOCK
  from redes.publish.enhance import Enhancer, enhance_geotiff
  enhancer = Enhancer(model_dir)
  block = np.random.default_rng(0).uniform(0.02, 0.3, (1, BLOCK, BLOCK, len(BANDS))).astype(np.float32)
  enhancer(block)
  generator_mpx_s, seconds = [], []
  for _ in range(1 + NEXT):
    calls = []
    for _ in range(7):
      started = time.time()
      enhancer(block)
      calls.append(time.time() - started)
    generator_mpx_s.append((BLOCK * enhancer.scale) ** 2 / statistics.median(calls) / 1e6)
    started = time.time()
    profile = enhance_geotiff(scene, out, enhancer)
    seconds.append(time.time() - started)
  return {"output_px": profile["width"] * profile["height"], "seconds": seconds, "halo": enhancer.halo,
          "generator_mpx_s": generator_mpx_s, "peak_rss_mib": _peak_rss_mib()}


def _pipeline(model_dir: str, scene: str, out: str, workers: str, mode: str) -> None:
  """Runs in the child process: one frame enhanced through the publishing pipeline, the model loaded before the
  clock starts; prints its seconds."""
  from redes.publish import publishing_pipeline
  from redes.publish.enhance import Enhancer
  enhancer = Enhancer(model_dir)
  publishing_pipeline.share_enhancer(enhancer)   # as redes tiles does: the pipeline's own process loads no other
  started = time.time()
  frame = publishing_pipeline.FrameToEnhance("scene", scene, out)
  work = publishing_pipeline.Work(os.path.dirname(out), model_dir, False, enhancer.halo, (frame,), (), (),
                                  (0.0, 0.0, 0.1, 0.1), 10, 10, "png", 1000)
  publishing_pipeline.run(work, f"{out}.counts.json", publishing_pipeline.local_beam_args(int(workers), mode))
  print(time.time() - started)


def _peak_rss_mib() -> float:
  """This process's own peak resident memory (VmHWM; getrusage's would include the parent's, kept across exec)."""
  with open("/proc/self/status", encoding="ascii") as status:
    line = next(l for l in status if l.startswith("VmHWM:"))
  return int(line.split()[1]) / 1024


def main() -> None:
  parser = argparse.ArgumentParser()
  parser.add_argument("--sizes", nargs="+", default=["1000x1000", "4000x4000", "10000x10000", "30000x3000"],
                      help="output sizes, WIDTHxHEIGHT pixels")
  parser.add_argument("--workers", type=int, default=0,
                      help="also enhance the last size through the publishing pipeline over this many workers")
  parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
  parser.add_argument("--pipeline-child", nargs=5, help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.child:
    print(json.dumps(_one(*args.child)))
    return
  if args.pipeline_child:
    _pipeline(*args.pipeline_child)
    return
  work = tempfile.mkdtemp(prefix="redes-bench-enhance-")
  model_dir = os.path.join(work, "model")
  _model(model_dir)
  print(f"{'output px':>12} {'Mpx':>6} | {'generator':>9} {'first s':>8} {'Mpx/s':>6} {'ratio':>6} | {'generator':>9} "
        f"{'next s':>7} {'Mpx/s':>6} {'ratio':>6} | {'halo px':>8} {'peak RSS MiB':>13}")
  for size in args.sizes:
    width, height = (int(v) for v in size.split("x"))
    scene, out = os.path.join(work, f"in_{size}.tif"), os.path.join(work, f"out_{size}.tif")
    _scene(scene, -(-width // 3), -(-height // 3))
    os.sync()                # the files written so far leave the page cache's dirty list before the clock starts
    child = subprocess.run([sys.executable, __file__, "--child", model_dir, scene, out], check=True,
                           capture_output=True, text=True)
    result = json.loads(child.stdout.strip().splitlines()[-1])
    mpx = result["output_px"] / 1e6
    each = [(generator, seconds, mpx / seconds / generator)
            for generator, seconds in zip(result["generator_mpx_s"], result["seconds"])]
    later = [statistics.median(column) for column in zip(*each[1:])]
    frames = " | ".join(f"{generator:9.2f} {seconds:{width}.2f} {mpx / seconds:6.2f} {ratio:6.2f}"
                        for (generator, seconds, ratio), width in zip((each[0], later), (8, 7)))
    print(f"{size:>12} {mpx:6.1f} | {frames} | {result['halo']:8d} {result['peak_rss_mib']:13.0f}")
    os.remove(out)
  if args.workers:
    _pipeline_runs(model_dir, scene, os.path.join(work, "pipeline"), args.workers)


def _pipeline_runs(model_dir: str, scene: str, folder: str, workers: int) -> None:
  digests = {}
  runs = [("1 worker", 1, "multi_threading"), (f"{workers} threads", workers, "multi_threading"),
          (f"{workers} processes", workers, "multi_processing")]
  for name, count, mode in runs:
    out = os.path.join(folder, name.replace(" ", "_"), "scene.tif")
    os.sync()                # so that no run pays the write-back of the one before it
    child = subprocess.run([sys.executable, __file__, "--pipeline-child", model_dir, scene, out, str(count), mode],
                           check=True, capture_output=True, text=True)
    with open(out, "rb") as f:
      digests[name] = hashlib.sha256(f.read()).hexdigest()
    print(f"publishing pipeline, {name}: {float(child.stdout.strip().splitlines()[-1]):.1f} s, same bytes as 1 "
          f"worker: {digests[name] == digests['1 worker']}")

if __name__ == "__main__":
  main()
