"""Yearly frames of a region, for redes.timeseries: one reflectance GeoTIFF (COG, float32, NaN no-data) per year,
all on one grid, so that frame i of every animation is year i and tiles of every year line up.

`collect` picks the source, for TileGen and `redes tiles` alike: local rasters (one per year, any CRS), Earth
Engine years (redes.earthengine.frames), or one default raster (the demo scene). For local rasters the grid takes
the CRS and pixel size of the earliest year's raster; its extent is the geometry's bounds (snapped outwards to
that raster's pixel grid) or, without a geometry, that raster's extent. Each year's raster is resampled onto it; a
year with no valid pixel in the region is reported and skipped.
"""
import dataclasses
import logging
import math
import os

import numpy as np

from redes import cog
from redes.bands import check_band_count


class FrameError(ValueError):
  """A frame source that cannot be used; the message names the value and what is expected."""


@dataclasses.dataclass(frozen=True)
class Grid:
  crs: object
  transform: object
  width: int
  height: int


def region_grid(first_raster: str, polygons=None) -> Grid:
  """The common grid of a region's frames (see the module docstring)."""
  import rasterio  # pylint: disable=import-outside-toplevel
  from rasterio.transform import from_origin  # pylint: disable=import-outside-toplevel
  from rasterio.warp import transform_bounds  # pylint: disable=import-outside-toplevel
  with rasterio.open(first_raster) as src:
    if not polygons:
      return Grid(src.crs, src.transform, src.width, src.height)
    from shapely.ops import unary_union  # pylint: disable=import-outside-toplevel
    wgs84_bounds = unary_union(polygons).bounds
    west, south, east, north = transform_bounds("EPSG:4326", src.crs, *wgs84_bounds)
    left, bottom, right, top = src.bounds
    if west >= right or east <= left or south >= top or north <= bottom:
      raise FrameError(f"the geometry (bounds {wgs84_bounds} in WGS84) lies outside the imagery "
                       f"of {first_raster} (bounds {tuple(src.bounds)} in {src.crs})")
    x_res, y_res = src.transform.a, -src.transform.e
    col0, col1 = math.floor((west - left) / x_res), math.ceil((east - left) / x_res)
    row0, row1 = math.floor((top - north) / y_res), math.ceil((top - south) / y_res)
    return Grid(src.crs, from_origin(left + col0 * x_res, top - row0 * y_res, x_res, y_res), col1 - col0,
                row1 - row0)


def write_cog(path: str, data: np.ndarray, grid: Grid, descriptions=None) -> str:
  """Writes [bands, h, w] float32 (NaN no-data) on the grid as a Cloud-Optimized GeoTIFF."""
  import rasterio  # pylint: disable=import-outside-toplevel
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  profile = {**cog.TILED_PROFILE, "dtype": "float32", "nodata": np.nan, "count": data.shape[0], "crs": grid.crs,
             "transform": grid.transform, "width": grid.width, "height": grid.height}
  with rasterio.open(cog.staging_path(path), "w", **profile) as dst:
    dst.write(data.astype(np.float32))
    if descriptions:
      dst.descriptions = tuple(descriptions)
  return cog.finish(path)


def local_frames(rasters: dict[str, str], grid: Grid, out_dir: str, bands, scale: float = 1.0,
                 offset: float = 0.0) -> tuple[dict[str, str], dict[str, str]]:
  """Resamples each year's raster onto the grid as reflectance (DN * scale + offset) and writes
  <out_dir>/<year>.tif; returns ({year: path}, {skipped year: reason})."""
  import rasterio  # pylint: disable=import-outside-toplevel
  from rasterio.enums import Resampling  # pylint: disable=import-outside-toplevel
  from rasterio.vrt import WarpedVRT  # pylint: disable=import-outside-toplevel
  for year, path in sorted(rasters.items()):      # every raster is checked before anything is written
    with rasterio.open(path) as src:
      check_band_count(f"{path} (year {year})", src.count, bands, FrameError)
  frames, skipped = {}, {}
  for year, path in sorted(rasters.items()):
    with rasterio.open(path) as src:
      with WarpedVRT(src, crs=grid.crs, transform=grid.transform, width=grid.width, height=grid.height,
                     resampling=Resampling.bilinear, nodata=src.nodata if src.nodata is not None else np.nan,
                     dtype="float32") as vrt:
        data = vrt.read(masked=True)
    reflectance = (data.astype(np.float32) * scale + offset).filled(np.nan)
    reflectance[:, ~np.isfinite(reflectance).all(axis=0)] = np.nan
    if not np.isfinite(reflectance).any():
      skipped[year] = f"{path} has no valid pixel in the region"
      logging.warning("frame %s skipped: %s", year, skipped[year])
      continue
    frames[year] = write_cog(os.path.join(out_dir, f"{year}.tif"), reflectance, grid, bands)
  return frames, skipped


def collect(region_dir: str, bands, rasters=None, geometry: str = "", start_year: int = 0, stop_year: int = 0,
            instrument: str = "landsat", ee_url: str = "", default_raster: str = "", scale: float = 1.0,
            offset: float = 0.0) -> tuple[dict[str, str], dict[str, str]]:
  """Writes the original frames under <region_dir>/original/; returns ({year: COG}, {skipped year: reason})."""
  from redes.regions import read_polygons  # pylint: disable=import-outside-toplevel
  polygons = read_polygons(geometry) if geometry else None
  out_dir = os.path.join(region_dir, "original")
  if rasters:
    return local_frames(rasters, region_grid(rasters[min(rasters)], polygons), out_dir, bands, scale, offset)
  if start_year:
    from redes.earthengine import credentials  # pylint: disable=import-outside-toplevel
    from redes.earthengine.frames import earthengine_frames  # pylint: disable=import-outside-toplevel
    if not polygons:
      raise FrameError("Earth Engine frames need --geometry (a GeoJSON of the region)")
    credentials.initialize(url=ee_url or None)
    _, frames, skipped = earthengine_frames(range(start_year, stop_year + 1), polygons, bands, out_dir, instrument)
    return frames, skipped
  return local_frames({"scene": default_raster}, region_grid(default_raster, polygons), out_dir, bands)
