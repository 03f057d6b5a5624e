"""Training pairs from a user's own Landsat and Sentinel-2 rasters: the data source of `source=rasters`.

Both rasters (GeoTIFF or COG, local or gs://, any CRS) are resampled onto the footprints of redes.ingest.patch_grid,
like the Earth Engine source: LR from Landsat on the 30 m UTM grid, HR from Sentinel-2 on the 10 m grid. Source pixels
finer than the target (by over 1%) are averaged, others interpolated bilinearly; a target pixel is NaN unless all
the source it draws on is valid, so no-data neither spreads nor is averaged into valid pixels.
"""
import contextlib
import dataclasses
import math
import os
from collections.abc import Iterator

import numpy as np
import rasterio
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.warp import reproject, transform, transform_bounds
from rasterio.windows import Window, from_bounds
from shapely.geometry import Polygon, box
from shapely.ops import transform as transform_shape

from redes.ingest.earthengine.sensors import COLLECTIONS
from redes.ingest.patch_grid import Footprint, layout

_FINER = 0.99                 # source pixels under this fraction of the target resolution are averaged
_VALID_FRACTION = 1.0 - 1e-3   # below it a target pixel draws on no-data (the slack absorbs rounding of weights)
_WINDOW_PAD = 2                # source pixels read around a patch, for the resampling kernel
_EDGE_POINTS = 64              # points per raster edge when its bounds are transformed to WGS84


@dataclasses.dataclass(frozen=True)
class RasterSource:
  """A raster and how to read reflectance from it: `bands` are 1-based band indexes in the project's band order."""
  path: str
  bands: tuple[int, ...]
  dn_scale: float = 1.0     # reflectance = DN * dn_scale + dn_offset
  dn_offset: float = 0.0
  nodata: float | None = None   # no-data value when the file does not declare it

  @classmethod
  def landsat_c2l2(cls, path: str, bands: tuple[int, ...]) -> "RasterSource":
    """Landsat Collection 2 Level-2 surface reflectance (DN * 0.0000275 - 0.2)."""
    sensor = COLLECTIONS["landsat8"]
    return cls(path, tuple(bands), sensor.dn_scale, sensor.dn_offset)

  @classmethod
  def sentinel2_l2a(cls, path: str, bands: tuple[int, ...]) -> "RasterSource":
    """Sentinel-2 L2A surface reflectance, harmonized (DN / 10000)."""
    sensor = COLLECTIONS["sentinel2"]
    return cls(path, tuple(bands), sensor.dn_scale, sensor.dn_offset)


def gdal_path(path: str) -> str:
  """The path GDAL opens: gs://bucket/key becomes /vsigs/bucket/key; other paths are unchanged."""
  return "/vsigs/" + path[len("gs://"):] if path.startswith("gs://") else path


@contextlib.contextmanager
def _open(source: RasterSource) -> Iterator[rasterio.DatasetReader]:
  """The opened raster, checked to hold the source's bands and a coordinate reference system."""
  path = gdal_path(source.path)
  if "://" not in path and not path.startswith("/vsi") and not os.path.exists(path):
    raise ValueError(f"{source.path} does not exist")
  # Remote files: open without listing their folder (a bucket listing is slow, and not needed).
  remote = (rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR") if path.startswith("/vsi")
            else contextlib.nullcontext())
  try:
    with remote:
      src = rasterio.open(path)
  except RasterioIOError as err:
    raise ValueError(f"cannot open {source.path} as a raster: {err}") from err
  with src:
    for band in source.bands:
      if not 1 <= band <= src.count:
        raise ValueError(f"{source.path} has {src.count} bands; band {band} was asked for")
    if src.crs is None:
      raise ValueError(f"{source.path} has no coordinate reference system")
    yield src


def _source_resolution(src: rasterio.DatasetReader, dst_crs: CRS, col: float, row: float) -> float:
  """Side of the square of the same area as the source pixel at (col, row), in target CRS units."""
  xs, ys = zip(*(src.transform @ (c, r) for c, r in ((col, row), (col + 1, row), (col, row + 1))))
  xs, ys = transform(src.crs, dst_crs, xs, ys)
  area = (xs[1] - xs[0]) * (ys[2] - ys[0]) - (xs[2] - xs[0]) * (ys[1] - ys[0])
  return math.sqrt(abs(area))


def read_patch(source: RasterSource, footprint: Footprint, resolution: float) -> np.ndarray:
  """Reflectance [n, n, bands] float32 of the source on the footprint's grid at `resolution`; NaN for no-data."""
  n = footprint.pixels(resolution)
  dst_crs, dst_transform = CRS.from_epsg(footprint.epsg), footprint.transform(resolution)
  patch = np.full((len(source.bands), n, n), np.nan, np.float32)
  with _open(source) as src:
    bounds = transform_bounds(dst_crs, src.crs, footprint.left, footprint.top - footprint.size_m,
                              footprint.left + footprint.size_m, footprint.top, densify_pts=21)
    area = from_bounds(*bounds, transform=src.transform)
    resampling = (Resampling.average if _source_resolution(src, dst_crs, area.col_off + area.width / 2,
                                                           area.row_off + area.height / 2) < _FINER * resolution
                  else Resampling.bilinear)
    col0, row0 = max(math.floor(area.col_off) - _WINDOW_PAD, 0), max(math.floor(area.row_off) - _WINDOW_PAD, 0)
    col1 = min(math.ceil(area.col_off + area.width) + _WINDOW_PAD, src.width)
    row1 = min(math.ceil(area.row_off + area.height) + _WINDOW_PAD, src.height)
    if col1 <= col0 or row1 <= row0:
      return patch.transpose(1, 2, 0)
    window = Window(col0, row0, col1 - col0, row1 - row0)
    dn = src.read(list(source.bands), window=window, masked=True)
    src_crs, src_transform = src.crs, src.window_transform(window)
  valid = ~np.ma.getmaskarray(dn) & ~np.isnan(dn.data)
  if source.nodata is not None:
    valid &= dn.data != source.nodata
  reflectance = np.where(valid, dn.data * source.dn_scale + source.dn_offset, np.nan).astype(np.float32)
  grid = {"src_transform": src_transform, "src_crs": src_crs, "dst_transform": dst_transform, "dst_crs": dst_crs,
          "resampling": resampling}
  reproject(reflectance, patch, src_nodata=np.nan, dst_nodata=np.nan, **grid)
  valid_fraction = np.zeros_like(patch)
  reproject(valid.astype(np.float32), valid_fraction, **grid)
  patch[valid_fraction < _VALID_FRACTION] = np.nan
  return patch.transpose(1, 2, 0)


def read_pair(landsat: RasterSource, sentinel2: RasterSource, footprint: Footprint) -> tuple[np.ndarray, np.ndarray]:
  """(LR [k/s, k/s, bands] from Landsat, HR [k, k, bands] from Sentinel-2) reflectance of one footprint."""
  return (read_patch(landsat, footprint, footprint.lr_resolution),
          read_patch(sentinel2, footprint, footprint.hr_resolution))


def _wgs84_outline(source: RasterSource) -> Polygon:
  """The raster's bounds as a WGS84 polygon (edges densified, so it follows the raster in any CRS)."""
  with _open(source) as src:
    left, bottom, right, top = src.bounds
    to_wgs84 = Transformer.from_crs(src.crs.to_wkt(), 4326, always_xy=True)
  outline = box(left, bottom, right, top).segmentize(max(right - left, top - bottom) / _EDGE_POINTS)
  return transform_shape(to_wgs84.transform, outline)


def footprints(landsat: RasterSource, sentinel2: RasterSource, patch_size: int, scale: int,
               sample_size: int = 0, seed: int = 0) -> list[Footprint]:
  """Footprints inside the area both rasters cover, in its UTM zone; at most sample_size of them (0: all)."""
  if patch_size % scale:
    raise ValueError(f"patch_size {patch_size} is not divisible by the scaling factor {scale}")
  overlap = _wgs84_outline(landsat).intersection(_wgs84_outline(sentinel2))
  if overlap.is_empty or overlap.area == 0:
    raise ValueError(f"{landsat.path} and {sentinel2.path} do not overlap")
  found = layout(overlap, patch_size, scale, sample_size, seed)
  if not found:
    raise ValueError(f"the overlap of {landsat.path} and {sentinel2.path} is smaller than one patch "
                     f"({patch_size} x {patch_size} pixels of 10 m)")
  return found
