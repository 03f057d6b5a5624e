"""The common grid of a region's yearly frames and the writing of one frame on it (a COG), shared by
redes.publish.frames (local rasters) and redes.publish.earthengine_frames (Earth Engine years)."""
import dataclasses
import math

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window
from rasterio.warp import transform_bounds
from shapely.ops import unary_union

from redes.publish import cog


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
  with rasterio.open(first_raster) as src:
    if not polygons:
      return Grid(src.crs, src.transform, src.width, src.height)
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
  """Writes [bands, h, w] float32 reflectance (NaN no-data) on the grid as a Redes COG (redes.publish.cog)."""
  profile = {"count": data.shape[0], "crs": grid.crs, "transform": grid.transform, "width": grid.width,
             "height": grid.height}
  with cog.writing(path, profile, descriptions) as raster:
    raster.write(data.astype(np.float32), Window(0, 0, grid.width, grid.height))
  return path
