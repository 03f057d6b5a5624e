"""Cloud-Optimized GeoTIFF output shared by redes.publish.enhance and redes.publish.frames: a tiled, uncompressed
GeoTIFF written to a temporary name is copied to a COG (256-pixel blocks, deflate on every core, overviews) that
replaces the destination only when complete. GDAL's block cache is bounded (CACHE_MB), so memory does not grow with the
raster."""
import contextlib
import os

import rasterio
import rasterio.shutil

from redes.atomic import staged

TILED_PROFILE = {"driver": "GTiff", "tiled": True, "blockxsize": 256, "blockysize": 256, "BIGTIFF": "IF_SAFER"}
CACHE_MB = 64


@contextlib.contextmanager
def bounded_cache():
  """GDAL settings for writing large rasters: a block cache of CACHE_MB megabytes."""
  with rasterio.Env(GDAL_CACHEMAX=CACHE_MB):
    yield


def staging_path(path: str) -> str:
  """Where the tiled GeoTIFF destined for `path` is written first."""
  return f"{path}.gtiff.part"


def finish(path: str) -> str:
  """Turns staging_path(path) into the COG at `path` (written as `path`.part, then renamed) and removes it."""
  with bounded_cache(), staged(path) as staging:
    rasterio.shutil.copy(staging_path(path), staging, driver="COG", blocksize=256, compress="deflate",
                         predictor=3, overview_resampling="average", BIGTIFF="IF_SAFER", num_threads="ALL_CPUS")
  os.remove(staging_path(path))
  return path
