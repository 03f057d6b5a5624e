"""Cloud-Optimized GeoTIFF output shared by redes.publish.enhance and redes.publish.grid (the frames): a float32
raster (NaN no-data) is written block by block to a tiled, uncompressed GeoTIFF of this process beside the
destination, and its average overviews (2x, 4x, ... down to one block, no-data ignored) are computed from each block
as it arrives, into one tiled GeoTIFF per level, so that no pass over the finished raster is needed. When the
writing ends, GDAL's COG driver copies the raster and those overviews (through a VRT naming them) to the COG: 256-pixel
blocks, lossless ZSTD with the floating-point predictor; the copy is staged and renamed, and the temporary files are
removed either way. The tiled copy is the one GDAL needs: its COG driver only copies from a finished raster. GDAL's
block cache is bounded (CACHE_MB) while writing, so memory does not grow with the raster."""
import contextlib
import os
import threading
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import rasterio
import rasterio.env
import rasterio.shutil
from rasterio.crs import CRS
from rasterio.transform import Affine
from rasterio.windows import Window

from redes.atomic import staged, staging_name
from redes.disk_full import named_when_full

TILED_PROFILE = {"driver": "GTiff", "tiled": True, "blockxsize": 256, "blockysize": 256, "BIGTIFF": "IF_SAFER"}
CACHE_MB = 64
BLOCK = 256
COMPRESSION = {"compress": "zstd", "level": 1, "predictor": 3}   # 3x the speed of deflate here, about its size


class _BoundedCache:
  """GDAL's block cache at CACHE_MB megabytes while any thread of this process writes a COG, and back to what it
  was once the last of them ends. GDAL's cache is one per process, so it is counted here rather than set by
  rasterio.Env, which leaves it as set when nested in another Env and resets it under the other threads' feet.
  (rasterio passes an integer GDAL_CACHEMAX to GDALSetCacheMax64, in bytes.)"""

  def __init__(self):
    self._lock, self._writers, self._before = threading.Lock(), 0, None

  @contextlib.contextmanager
  def __call__(self):
    with self._lock:
      if not self._writers:
        self._before = rasterio.env.get_gdal_config("GDAL_CACHEMAX")
        rasterio.env.set_gdal_config("GDAL_CACHEMAX", CACHE_MB << 20)
      self._writers += 1
    try:
      yield
    finally:
      with self._lock:
        self._writers -= 1
        if not self._writers:
          rasterio.env.set_gdal_config("GDAL_CACHEMAX", self._before)


bounded_cache = _BoundedCache()


def overview_factors(width: int, height: int) -> list[int]:
  """2, 4, 8, ... until the overview fits in one block (the levels GDAL's COG driver would make)."""
  factors, factor = [], 2
  while max(width, height) / (factor // 2) > BLOCK:
    factors.append(factor)
    factor *= 2
  return factors


def _halve(values: np.ndarray) -> np.ndarray:
  """The sum of each 2 x 2 cell of [..., h, w] values; an odd last row or column adds nothing."""
  if values.shape[-2] % 2 or values.shape[-1] % 2:
    values = np.pad(values, [(0, 0)] * (values.ndim - 2) + [(0, values.shape[-2] % 2), (0, values.shape[-1] % 2)])
  return values[..., 0::2, 0::2] + values[..., 1::2, 0::2] + values[..., 0::2, 1::2] + values[..., 1::2, 1::2]


class BlockWriter:
  """The raster being written: write([bands, h, w] float32, Window) puts a block in place and adds it to every
  overview. A block's offsets must be multiples of the largest overview factor (a block may end anywhere at the
  raster's right and bottom edges), so that each overview cell takes its pixels from one block."""

  def __init__(self, datasets: contextlib.ExitStack, temporaries: contextlib.ExitStack, path: str, profile: dict):
    """Opens the tiled raster of the COG at `path` and its overviews on `datasets`, under staging names; their files
    are removed when `temporaries` ends."""
    self.profile = profile
    tiled = staging_name(path, ".gtiff")
    self.factors = overview_factors(profile["width"], profile["height"])
    temporaries.callback(_remove, tiled)
    self.raster = datasets.enter_context(rasterio.open(tiled, "w", **profile))
    self.overviews = {}
    for factor in self.factors:
      size = {"width": -(-profile["width"] // factor), "height": -(-profile["height"] // factor)}
      overview = staging_name(path, f".{factor}x.gtiff")
      temporaries.callback(_remove, overview)
      self.overviews[overview] = datasets.enter_context(rasterio.open(
          overview, "w", **{**profile, **size, "transform": profile["transform"] @ Affine.scale(factor)}))

  def write(self, data: np.ndarray, window: Window) -> None:
    if self.factors and (window.col_off % self.factors[-1] or window.row_off % self.factors[-1]):
      raise ValueError(f"block at ({window.col_off}, {window.row_off}) is not aligned to the overview factor "
                       f"{self.factors[-1]}")
    data = np.ascontiguousarray(data, np.float32)
    self.raster.write(data, window=window)
    if np.isfinite(data.sum()):                     # no no-data: every pixel counts
      sums, counts = data, np.ones(data.shape[1:], np.float32)
    else:
      valid = np.isfinite(data).all(axis=0)
      sums, counts = np.where(valid, data, np.float32(0)), valid.astype(np.float32)
    for factor, overview in zip(self.factors, self.overviews.values()):
      sums, counts = _halve(sums), _halve(counts)
      with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / counts, np.float32(np.nan))
      overview.write(mean, window=Window(window.col_off // factor, window.row_off // factor, counts.shape[1],
                                         counts.shape[0]))

  def vrt(self, descriptions) -> str:
    """The VRT of the raster with its overviews, for GDAL's COG driver."""
    bands = []
    for band in range(1, self.profile["count"] + 1):
      overviews = "".join(f"<Overview><SourceFilename relativeToVRT='0'>{escape(path)}</SourceFilename>"
                          f"<SourceBand>{band}</SourceBand></Overview>" for path in self.overviews)
      description = escape(descriptions[band - 1]) if descriptions else ""
      bands.append(f"<VRTRasterBand dataType='Float32' band='{band}'><Description>{description}</Description>"
                   f"<NoDataValue>nan</NoDataValue><SimpleSource><SourceFilename relativeToVRT='0'>"
                   f"{escape(self.raster.name)}</SourceFilename><SourceBand>{band}</SourceBand></SimpleSource>"
                   f"{overviews}</VRTRasterBand>")
    geotransform = ",".join(repr(v) for v in self.profile["transform"].to_gdal())
    crs = self.profile.get("crs")
    srs = f"<SRS>{escape(CRS.from_user_input(crs).to_wkt())}</SRS>" if crs else ""
    return (f"<VRTDataset rasterXSize={quoteattr(str(self.profile['width']))} "
            f"rasterYSize={quoteattr(str(self.profile['height']))}>{srs}<GeoTransform>{geotransform}</GeoTransform>"
            f"{''.join(bands)}</VRTDataset>")


def _remove(path: str) -> None:
  if os.path.exists(path):
    os.remove(path)


@contextlib.contextmanager
def writing(path: str, profile: dict, descriptions=None):
  """Yields the BlockWriter of the COG at `path` (profile: rasterio's, float32, NaN no-data; descriptions: one per
  band); when the block ends, copies the raster and its overviews to the COG (staged, then renamed)."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  profile = {**profile, **TILED_PROFILE, "dtype": "float32", "nodata": np.nan, "compress": "none"}
  with contextlib.ExitStack() as temporaries, named_when_full(path):   # checked before the temporaries go
    vrt = temporaries.enter_context(rasterio.MemoryFile(ext=".vrt"))
    with bounded_cache():
      with contextlib.ExitStack() as datasets:
        writer = BlockWriter(datasets, temporaries, path, profile)
        yield writer
      vrt.write(writer.vrt(descriptions).encode())
      with staged(path) as staging:
        rasterio.shutil.copy(vrt.name, staging, driver="COG", blocksize=BLOCK, BIGTIFF="IF_SAFER",
                             num_threads="ALL_CPUS", **COMPRESSION)
