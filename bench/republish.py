"""Benchmark of fresh-by-construction publishing: `redes tiles` on three yearly frames of the Pensacola Landsat 8 scene
with a served bicubic model, then an unchanged re-run, then a re-run after one year's raster changed, each timed,
with what it enhanced and how many tiles it wrote. Run on demand: `.venv/bin/python bench/republish.py [MAX_Z]`.
"""
import contextlib
import functools
import io
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
MIN_Z = 10


def _year_rasters(folder: str) -> dict:
  """Three years: the Pensacola scene as it is, 10 % brighter and 10 % darker."""
  import rasterio  # pylint: disable=import-outside-toplevel  (a benchmark script: imports when it runs)
  from redes.ingest import demo_data  # pylint: disable=import-outside-toplevel
  with rasterio.open(demo_data.landsat_reflectance_geotiff(("red", "green", "blue"))) as src:
    scene, profile = src.read(), src.profile
  paths = {}
  for year, factor in (("2019", 1.0), ("2020", 1.1), ("2021", 0.9)):
    paths[year] = os.path.join(folder, f"{year}.tif")
    with rasterio.open(paths[year], "w", **profile) as dst:
      dst.write(scene * factor)
  return paths


def _publish(model: str, folder: str, rasters: dict, max_z: int) -> tuple[float, str]:
  from pipeline import cli  # pylint: disable=import-outside-toplevel
  args = ["tiles", "--model", model, "--folder-path", folder, "--region-name", "bench", "--min-z", str(MIN_Z),
          "--max-z", str(max_z), "--frames", *[f"{y}={p}" for y, p in rasters.items()]]
  out = io.StringIO()
  started = time.time()
  with contextlib.redirect_stdout(out):
    cli.main(args)
  return time.time() - started, out.getvalue().strip().splitlines()[-1].split(";")[0]


def main() -> int:
  max_z = int(sys.argv[1]) if len(sys.argv) > 1 else 13
  import rasterio  # pylint: disable=import-outside-toplevel
  from models import export  # pylint: disable=import-outside-toplevel
  from redes.resampling import bicubic_upsample  # pylint: disable=import-outside-toplevel
  with tempfile.TemporaryDirectory(prefix="redes-republish-") as tmp:
    model = os.path.join(tmp, "model")
    export.export_model(functools.partial(bicubic_upsample, scale=3), model, ("red", "green", "blue"), 96, 3,
                        name="bicubic")
    rasters = _year_rasters(tmp)
    runs = [("first publication", rasters)]
    runs.append(("unchanged re-run", rasters))
    changed = os.path.join(tmp, "2020_changed.tif")
    with rasterio.open(rasters["2020"]) as src:
      profile, data = src.profile, src.read()
    with rasterio.open(changed, "w", **profile) as dst:
      dst.write(data * 1.05)
    runs.append(("one year changed", {**rasters, "2020": changed}))
    print(f"redes tiles, 3 frames of the Pensacola Landsat 8 scene, zoom {MIN_Z}-{max_z}, bicubic model")
    for name, frames in runs:
      seconds, line = _publish(model, os.path.join(tmp, "published"), frames, max_z)
      print(f"{name:<18} {seconds:7.1f} s   {line}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
