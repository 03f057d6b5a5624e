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


@contextlib.contextmanager
def writing(path: str):
  """Yields the tiled GeoTIFF to write first (a name of this process beside `path`); when the block ends, copies it
  to the COG at `path` (staged, then renamed); the tiled GeoTIFF is removed either way."""
  tiled = f"{path}.{os.getpid()}.gtiff.part"
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  try:
    yield tiled
    with bounded_cache(), staged(path) as staging:
      rasterio.shutil.copy(tiled, staging, driver="COG", blocksize=256, compress="deflate", predictor=3,
                           overview_resampling="average", BIGTIFF="IF_SAFER", num_threads="ALL_CPUS")
  finally:
    if os.path.exists(tiled):
      os.remove(tiled)
