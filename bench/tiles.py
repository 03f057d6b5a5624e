"""Benchmark of the tile pyramid against gdal2tiles, run on demand: `.venv/bin/python bench/tiles.py`.

Both tile the same super-resolved scene (the Pensacola Landsat 8 scene enhanced x3 by the bicubic model: 1881 x 1809
px, 10 m, EPSG:32616) over the same zoom range into 256 px PNG tiles, with bilinear resampling, at 1 and at 2
processes (`--processes`), side by side in one run. Redes draws them as it draws a published region: through the
scene's own display stretch (redes.publish.stretch: per-band percentiles, then the gamma); gdal2tiles (Debian's
gdal-bin) is given the scene already drawn so, as 8-bit RGB (gdal_translate's -scale and -exponent on the reflectance),
its reprojection included in its time. Redes tiles through its publishing pipeline
(redes.publish.publishing_pipeline) with one pyramid and Beam's local runner over as many workers, in a fresh process
as gdal2tiles is: threads of that one process (the default), and, above one, also worker processes, their start
included in its time. Prints tiles per second. Needs Debian's gdal-bin (`apt-get install gdal-bin`).
"""
import argparse
import functools
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
MIN_Z, MAX_Z = 10, 16
MODES = {"multi_threading": "threads", "multi_processing": "worker processes"}   # Beam's local running modes


def _tile(scene: str, folder: str, workers: str, mode: str) -> None:
  from redes.publish import publishing_pipeline
  from redes.publish.stretch import region_stretch
  from redes.publish.tiles import PyramidJob, geographic_bounds
  job = PyramidJob(scene, folder, "png", True, region_stretch([scene]))
  pyramid = publishing_pipeline.PyramidToWrite("enhanced", "scene", job, False)
  job = publishing_pipeline.Work("", "", False, 0, (), (pyramid,), (), geographic_bounds(scene), MIN_Z, MAX_Z,
                                 "png", 1000)
  started = time.time()
  count = sum(publishing_pipeline.run(job, f"{folder}.counts.json",
                                      publishing_pipeline.local_beam_args(int(workers), mode)))
  print(count, count / (time.time() - started))


def main() -> None:
  parser = argparse.ArgumentParser()
  parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
  parser.add_argument("--tile", nargs=4, metavar=("GEOTIFF", "FOLDER", "WORKERS", "MODE"),
                      help="(internal) tile GEOTIFF into FOLDER over WORKERS in MODE; print the count and tiles/s")
  args = parser.parse_args()
  if args.tile:
    _tile(*args.tile)
    return
  from models import export
  from redes.ingest import demo_data
  from redes.publish.enhance import Enhancer, enhance_geotiff
  from redes.publish.stretch import region_stretch
  from redes.resampling import bicubic_upsample
  work = tempfile.mkdtemp(prefix="redes-bench-tiles-")
  model_dir = os.path.join(work, "bicubic")
  bands = ("red", "green", "blue")
  export.export_model(functools.partial(bicubic_upsample, scale=3), model_dir, bands, 96, 3, name="bicubic")
  scene = os.path.join(work, "scene.tif")
  enhance_geotiff(str(demo_data.landsat_reflectance_geotiff(bands)), scene, Enhancer(model_dir))
  byte_scene = os.path.join(work, "scene_8bit.tif")
  stretch = region_stretch([scene])
  drawn = [arg for band, (low, high) in enumerate(zip(stretch.low, stretch.high), 1)
           for arg in (f"-scale_{band}", str(low), str(high), "1", "255", f"-exponent_{band}", str(1 / stretch.gamma))]
  subprocess.run(["gdal_translate", "-q", "-ot", "Byte", "-unscale", *drawn, "-a_nodata", "0", scene, byte_scene],
                 check=True)

  print(f"zoom {MIN_Z}-{MAX_Z}, 256 px PNG")
  for processes in args.processes:
    gdal_dir = os.path.join(work, f"gdal2tiles_{processes}")
    started = time.time()
    subprocess.run(["gdal2tiles.py", "-q", "--xyz", "-z", f"{MIN_Z}-{MAX_Z}", "-r", "bilinear", "-w", "none",
                    f"--processes={processes}", "--tiledriver=PNG", byte_scene, gdal_dir], check=True)
    gdal_rate = sum(f.endswith(".png") for _, _, fs in os.walk(gdal_dir) for f in fs) / (time.time() - started)
    print(f"{processes} process(es): gdal2tiles {gdal_rate:6.1f} tiles/s")
    for mode, workers in list(MODES.items())[:1 if processes == 1 else 2]:
      folder = os.path.join(work, f"redes_{processes}_{mode}")
      run = subprocess.run([sys.executable, __file__, "--tile", scene, folder, str(processes), mode], check=True,
                           capture_output=True, text=True)
      count, ours_rate = run.stdout.split()[-2:]
      where = "in one process" if processes == 1 else f"over {processes} {workers}"
      print(f"  redes.publish {where}: {int(count)} tiles, {float(ours_rate):6.1f} tiles/s, "
            f"{float(ours_rate) / gdal_rate:.2f}x gdal2tiles")


if __name__ == "__main__":
  main()
