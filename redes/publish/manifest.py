"""What each published output of a region was made from, so that redes.publish.timeseries rebuilds exactly what is
stale and skips the rest.

`<region_dir>/manifest.json` maps each output (`enhanced/<year>.tif`, `<layer>/<year>` tiles, `<layer>/animated`,
`<layer>.mp4`) to the digest of its inputs: the pixels, CRS and transform of the original frame, the served model's
files, the tile settings, and for the animations and videos the digests of their frames in order. An output is
fresh when it exists and its recorded digest equals the one of the current inputs. An entry is recorded only once
its output is complete, so an interrupted run leaves it stale.

The workers of the publishing pipeline, in several processes, record what they finish as parts: one small file per
entry under `<region_dir>/.manifest-parts/` (record_part). A Manifest merges the parts when it loads and again on
`merge_parts()`, and removes those it merged once it has saved them in manifest.json. So an interrupted publication
keeps every enhanced frame, pyramid and animation it finished.
"""
import hashlib
import json
import os

import rasterio
from rasterio.windows import Window

from redes.atomic import write_atomically

MANIFEST_FILE = "manifest.json"
PARTS_DIR = ".manifest-parts"
_ROWS_PER_READ = 512


def digest(*parts) -> str:
  """The digest of JSON-serialisable parts."""
  return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def raster_digest(path: str) -> str:
  """The digest of a raster's pixels (read in strips of rows), CRS, transform and band count."""
  sha = hashlib.sha256()
  with rasterio.open(path) as src:
    sha.update(json.dumps([str(src.crs), list(src.transform), src.count, src.width, src.height]).encode())
    for row in range(0, src.height, _ROWS_PER_READ):
      sha.update(src.read(window=Window(0, row, src.width, min(_ROWS_PER_READ, src.height - row))).tobytes())
  return sha.hexdigest()[:32]


def model_identity(model_dir: str) -> str:
  """The digest of every file of a served model (relative paths and bytes)."""
  sha = hashlib.sha256()
  for folder, dirs, files in os.walk(model_dir):
    dirs.sort()
    for name in sorted(files):
      path = os.path.join(folder, name)
      sha.update(os.path.relpath(path, model_dir).encode())
      with open(path, "rb") as f:
        for block in iter(lambda f=f: f.read(1 << 20), b""):
          sha.update(block)
  return sha.hexdigest()[:32]


def record_part(region_dir: str, key: str, inputs: str) -> None:
  """Records `key` complete, made from `inputs`, as a part (from any process); the region's Manifest merges it."""
  write_atomically(os.path.join(region_dir, PARTS_DIR, f"{digest(key)}.json"),
                   json.dumps({"key": key, "inputs": inputs}))


class Manifest:
  """The recorded digests of one region's outputs; with `overwrite`, every output is stale."""

  def __init__(self, region_dir: str, overwrite: bool = False):
    self.path = os.path.join(region_dir, MANIFEST_FILE)
    self.overwrite = overwrite
    self.entries = {}
    self._merged = set()       # the part files merged since the last save
    if os.path.exists(self.path):
      with open(self.path) as f:
        self.entries = json.load(f).get("entries", {})
    self.merge_parts()

  def merge_parts(self) -> None:
    """Takes in the entries the pipeline's workers recorded as parts (record_part)."""
    folder = os.path.join(os.path.dirname(self.path), PARTS_DIR)
    names = sorted(n for n in os.listdir(folder) if n.endswith(".json")) if os.path.isdir(folder) else []
    for name in names:
      with open(os.path.join(folder, name)) as f:
        part = json.load(f)
      self.entries[part["key"]] = part["inputs"]
      self._merged.add(os.path.join(folder, name))

  def fresh(self, key: str, inputs: str, output: str) -> bool:
    """Whether `output` exists and was made from `inputs` (a digest)."""
    return not self.overwrite and self.entries.get(key) == inputs and os.path.exists(output)

  def recorded(self, key: str) -> bool:
    return key in self.entries

  def record(self, key: str, inputs: str) -> None:
    """Marks `key` complete, made from `inputs`, and saves the manifest."""
    self.entries[key] = inputs
    self.save()

  def forget(self, key: str) -> None:
    self.entries.pop(key, None)

  def save(self) -> None:
    write_atomically(self.path, json.dumps({"entries": self.entries}, indent=1, sort_keys=True))
    for path in sorted(self._merged):  # now in manifest.json
      os.remove(path)
    self._merged = set()
