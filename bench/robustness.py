"""Benchmark of robustness on held-out rows: the gain over bicubic and the invented texture of the pushed model under
every robustness variant, for a model trained on the reference degradation only (before) and one trained on the
sensors' randomised degradations (after, the default). Run on demand: `.venv/bin/python bench/robustness.py
[flags for both runs]`.

The bottom rows of the demo Sentinel-2 scene (4 rows of 96 px patches, 80 patches) are cut off before the pipeline
sees the scene, so neither training, validation nor the test split ImageEvaluator scores ever touches them. Each
run is the default local run on the rest, in its own process and output folder; then the pushed
models and bicubic are scored on the held-out rows with the evaluator's own variants and metrics, twice:
- as 96 px patches, each metric per patch and then averaged, as ImageEvaluator scores the test split: every patch
  counts the same, and the flat ones, where bicubic is already close, have few dB to gain;
- as one strip (the held-out rows whole, enhanced at once as TileGen enhances a scene): one figure over the error of
  all the rows' pixels, the way a scene's PSNR is quoted, where the busy areas weigh as much as their error.
Enhancing the strip whole and cutting it into the patches moves the per-patch figures by 0.01 dB at most: the two
tables differ by how the error is pooled, not by the patches' edges.
Prints both tables and each run's wall time.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
PATCH = 96
HELD_OUT_ROWS = 4 * PATCH
RUNS = {"before": ["--degradation", "reference"], "after": []}


def _cropped_data_dir(source: pathlib.Path, target: pathlib.Path) -> int:
  """A copy of the demo data folder whose Sentinel-2 bands end HELD_OUT_ROWS above the scene's own bottom edge;
  returns the first held-out row."""
  import rasterio  # pylint: disable=import-outside-toplevel
  from redes.ingest.demo_data import _members  # pylint: disable=import-outside-toplevel
  first_held_out = None
  for member in _members():
    (target / member).parent.mkdir(parents=True, exist_ok=True)
    if "sentinel2" not in member:
      shutil.copy(source / member, target / member)
      continue
    with rasterio.open(source / member) as src:
      first_held_out = (src.height - HELD_OUT_ROWS) // PATCH * PATCH
      profile = {**src.profile, "driver": "GTiff", "height": first_held_out}
      with rasterio.open(target / member, "w", **profile) as dst:
        dst.write(src.read(window=((0, first_held_out), (0, src.width))))
  return first_held_out


def _held_out(first_row: int):
  """The held-out rows of the scene's RGB bands as 96 px patches [n, 96, 96, 3] and as one strip [1, h, w, 3], w
  the scene's width in whole patches."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  from redes.ingest import demo_data  # pylint: disable=import-outside-toplevel
  image, _, _ = demo_data.sentinel2_reflectance(("red", "green", "blue"))
  strip = image[first_row:first_row + HELD_OUT_ROWS, :image.shape[1] // PATCH * PATCH]
  if not np.isfinite(strip).all():
    raise ValueError(f"the held-out rows from {first_row} of the demo scene have no-data pixels; expected none")
  patches = [strip[y:y + PATCH, x:x + PATCH] for y in range(0, strip.shape[0], PATCH)
             for x in range(0, strip.shape[1], PATCH)]
  return np.stack(patches), strip[None]


def _score(model_dirs: dict, held_out: dict) -> dict:
  """{title: {variant: {model: (PSNR, cPSNR, texture)}}} for each set of held-out images {title: [n, h, w, 3]}, each
  model loaded once."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from redes.evaluation.metrics import cpsnr, psnr, texture_energy  # pylint: disable=import-outside-toplevel
  from redes.evaluation.record import INPUT  # pylint: disable=import-outside-toplevel
  from redes.ingest import degradation  # pylint: disable=import-outside-toplevel
  from redes.landsat_sensors import VARIANTS  # pylint: disable=import-outside-toplevel
  from redes.model_info import OUTPUT_KEY  # pylint: disable=import-outside-toplevel
  enhance = {name: tf.saved_model.load(path).signatures["enhance"] for name, path in model_dirs.items()}
  tables = {}
  for title, hr in held_out.items():
    ids = [f"held_out/{i}".encode() for i in range(len(hr))]
    target_energy = float(np.mean(texture_energy(hr, hr)))
    table = tables[title] = {}
    for variant in (INPUT, *VARIANTS):
      lr = degradation.degrade(hr, 3) if variant == INPUT else degradation.variant_inputs(hr, 3, variant, ids)
      table[variant] = {}
      for name, fn in enhance.items():
        sr = tf.concat([fn(lr=lr[i:i + 16])[OUTPUT_KEY] for i in range(0, len(hr), 16)], axis=0)
        table[variant][name] = (float(np.mean(psnr(hr, sr))), float(np.mean(cpsnr(hr, sr))),
                                float(np.mean(texture_energy(hr, sr))) / target_energy)
  return tables


def _print_table(title: str, table: dict) -> None:
  print(f"\nheld-out rows as {title}")
  print(f"{'input':<12} {'before: cPSNR gain':>18} {'after: cPSNR gain':>18} {'before: texture':>16} "
        f"{'after: texture':>15} {'bicubic: texture':>17} {'bicubic PSNR':>13}")
  for variant, models in table.items():
    gain = {run: models[run][1] - models["bicubic"][1] for run in RUNS}
    print(f"{variant:<12} {gain['before']:>+18.2f} {gain['after']:>+18.2f} {models['before'][2]:>16.2f} "
          f"{models['after'][2]:>15.2f} {models['bicubic'][2]:>17.2f} {models['bicubic'][0]:>13.2f}")
  psnr_gain = {run: table["input"][run][0] - table["input"]["bicubic"][0] for run in RUNS}
  print(f"PSNR gain on the reference input: before {psnr_gain['before']:+.2f} dB, after {psnr_gain['after']:+.2f} dB")


def main() -> int:
  from redes.ingest import demo_data  # pylint: disable=import-outside-toplevel
  with tempfile.TemporaryDirectory(prefix="redes-bench-robustness-") as folder:
    folder = pathlib.Path(folder)
    first_row = _cropped_data_dir(demo_data.data_dir(), folder / "data")
    served, seconds, checks, blessings = {}, {}, {}, {}
    for run, flags in RUNS.items():
      started = time.time()
      subprocess.run([sys.executable, os.path.join(ROOT, "local_runner.py"), "--output-dir", str(folder / run),
                      "--data-dir", str(folder / "data"), *flags, *sys.argv[1:]], check=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
      seconds[run] = time.time() - started
      with open(folder / run / "summary.json") as f:
        summary = json.load(f)
      served[run] = summary["pushed_model"] or summary["components"]["Trainer"]["outputs"]["Model"] + \
          "/Format-Serving"
      seconds[f"{run} Trainer"] = summary["components"]["Trainer"]["seconds"]
      checks[run] = summary["tiles"]["frame_checks"] or "no tiles (the model was not blessed)"
      blessings[run] = summary["blessing_message"]
    bicubic = os.path.join(summary["components"]["BicubicBaseline"]["outputs"]["Model"], "Format-Serving")
    patches, strip = _held_out(first_row)
    tables = _score({**served, "bicubic": bicubic},
                    {f"{len(patches)} patches of {PATCH} px, per patch, averaged (as ImageEvaluator scores)": patches,
                     f"one strip of {strip.shape[1]} x {strip.shape[2]} px, pooled (a scene's figure)": strip})
  print(f"held-out rows: {first_row} to the scene's bottom, never in any split")
  for title, table in tables.items():
    _print_table(title, table)
  print("wall seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()))
  for run in RUNS:
    print(f"{run}: blessing: {blessings[run]}")
    print(f"{run}: TileGen's no-reference checks of the real Landsat 8 scene: {checks[run]}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
