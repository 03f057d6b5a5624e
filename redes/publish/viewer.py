"""The viewer of a published region (written by redes.publish.timeseries): one static HTML page on Leaflet, with a year
slider, play and pause, and a swipe between the original (30 m) and the enhanced layers. Leaflet's files are copied
beside the page from the pinned XStatic-Leaflet package, so the page works offline and straight from disk."""
import json
import os
import shutil
from importlib import resources

import xstatic.pkg.leaflet

from redes.atomic import write_atomically

PLACEHOLDER = "__CONFIG__"
LEAFLET_FILES = ("leaflet.js", "leaflet.css", "images")


def _copy_leaflet(region_dir: str) -> None:
  target = os.path.join(region_dir, "leaflet")
  os.makedirs(target, exist_ok=True)
  for name in LEAFLET_FILES:
    source = os.path.join(xstatic.pkg.leaflet.BASE_DIR, name)
    if os.path.isdir(source):
      shutil.copytree(source, os.path.join(target, name), dirs_exist_ok=True)
    else:
      shutil.copyfile(source, os.path.join(target, name))


def write_viewer(region_dir: str, region: str, layers: list[str], frames: list[str], bounds, min_z: int,
                 max_z: int, ext: str = "png", delay_ms: int = 1000) -> str:
  """Writes <region_dir>/index.html over <region_dir>/<layer>/<frame>/{z}/{x}/{y}.<ext>; returns its path."""
  config = {"region": region, "layers": layers, "frames": frames, "bounds": list(bounds), "min_z": min_z,
            "max_z": max_z, "ext": ext, "delay_ms": delay_ms}
  # json.dumps escapes quotes; escaping "<" keeps any name from closing the script element.
  script_value = json.dumps(config).replace("<", "\\u003c")
  template = resources.files("redes.publish").joinpath("templates/viewer.html").read_text()
  html = template.replace(PLACEHOLDER, script_value)
  _copy_leaflet(region_dir)
  return write_atomically(os.path.join(region_dir, "index.html"), html)
