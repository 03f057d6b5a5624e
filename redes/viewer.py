"""The static HTML viewer of a region's tile layers (no external scripts: it works offline and from disk)."""
import json
import os
from importlib import resources

PLACEHOLDER = "__CONFIG__"


def write_viewer(region_dir: str, region: str, layers: list[str], frame: str, bounds, min_z: int,
                 max_z: int) -> str:
  """Writes <region_dir>/index.html showing <region_dir>/<layer>/<frame>/{z}/{x}/{y}.png; returns its path."""
  config = {"region": region, "layers": layers, "frame": frame, "bounds": list(bounds), "min_z": min_z,
            "max_z": max_z}
  # json.dumps escapes quotes; escaping "<" keeps any name from closing the script element.
  script_value = json.dumps(config).replace("<", "\\u003c")
  html = resources.files("redes").joinpath("templates/viewer.html").read_text().replace(PLACEHOLDER, script_value)
  path = os.path.join(region_dir, "index.html")
  with open(f"{path}.part", "w") as f:
    f.write(html)
  os.replace(f"{path}.part", path)
  return path
