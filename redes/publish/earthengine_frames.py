"""Yearly Landsat frames of a region from Earth Engine, for TileGen and `redes tiles` (then redes.publish.timeseries).

Year windows follow the original system's: through 2012, a four-year window ending with the year over the TM / ETM+
sensors in service (Landsat 4, 5, 7); from 2013, the calendar year over OLI (Landsat 8, 9). `instrument` may name
one sensor (landsat4 ... landsat9) to use it alone. Each frame is the median of the cloud-masked Collection 2
Level-2 surface reflectance, fetched with computePixels in 30 m pixel tiles (never thumbnails) on a UTM grid
snapped to 30 m over the region, and written as a COG (redes.publish.frames). A year with no sensor in service or no
clear pixel is reported and skipped.
"""
import concurrent.futures
import datetime
import logging
import math
import os

import numpy as np
from rasterio.crs import CRS
from rasterio.transform import Affine, from_origin
from shapely.ops import unary_union

from redes.ingest.earthengine import sensors, transfer
from redes.ingest.earthengine.dataset import ee_geometry
from redes.ingest.patch_grid import to_utm, utm_epsg
from redes.publish.grid import FrameError, Grid, write_cog

INSTRUMENTS = ("landsat", "landsat4", "landsat5", "landsat7", "landsat8", "landsat9")
TM_ETM, OLI = ("landsat4", "landsat5", "landsat7"), ("landsat8", "landsat9")
RESOLUTION = 30.0
CHUNK = 512          # pixels per side of one computePixels request


def year_window(year: int, instrument: str = "landsat") -> tuple[str, str, list]:
  """(first day, day after the last, sensors in service then) of a year's frame."""
  if instrument not in INSTRUMENTS:
    raise FrameError(f"unknown instrument {instrument!r}; expected one of {', '.join(INSTRUMENTS)}")
  first_year = year - 3 if year <= 2012 and instrument in ("landsat", *TM_ETM) else year
  start, end = f"{first_year}-01-01", f"{year + 1}-01-01"
  slugs = (TM_ETM if year <= 2012 else OLI) if instrument == "landsat" else (instrument,)
  in_service = [sensors.sensor(s) for s in slugs
                if sensors.sensor(s).covers(datetime.date.fromisoformat(start),
                                            datetime.date.fromisoformat(end) - datetime.timedelta(days=1))]
  return start, end, in_service


def utm_grid(polygons) -> Grid:
  """30 m grid in the UTM zone of the region's centroid, over its bounds snapped outwards to 30 m."""
  region = unary_union(polygons)
  epsg = utm_epsg(region.centroid.x, region.centroid.y)
  minx, miny, maxx, maxy = to_utm(region, epsg).bounds
  left, top = math.floor(minx / RESOLUTION) * RESOLUTION, math.ceil(maxy / RESOLUTION) * RESOLUTION
  width = int(math.ceil((maxx - left) / RESOLUTION))
  height = int(math.ceil((top - miny) / RESOLUTION))
  return Grid(CRS.from_epsg(epsg), from_origin(left, top, RESOLUTION, RESOLUTION), width, height)


def fetch_frame(image, grid: Grid, bands, concurrency: int = 4) -> np.ndarray:
  """[bands, height, width] reflectance of `image` on the grid, in CHUNK x CHUNK requests; NaN where masked."""
  out = np.full((len(bands), grid.height, grid.width), np.nan, np.float32)
  chunks = [(r, c) for r in range(0, grid.height, CHUNK) for c in range(0, grid.width, CHUNK)]

  def fetch(chunk):
    row, col = chunk
    height, width = min(CHUNK, grid.height - row), min(CHUNK, grid.width - col)
    ee_grid = transfer.affine_grid(grid.crs.to_string(), grid.transform @ Affine.translation(col, row), width,
                                   height)
    return chunk, transfer.fetch_grid(image, ee_grid, bands)

  with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
    for (row, col), pixels in pool.map(fetch, chunks):
      out[:, row:row + pixels.shape[0], col:col + pixels.shape[1]] = np.moveaxis(pixels, -1, 0)
  return out


def _composite(sensors_in_service, bands, start: str, end: str, region):
  """Median of the merged masked collections; an always-masked image keeps the bands when none is found."""
  # pylint: disable-next=import-outside-toplevel  (only Earth Engine runs need ee, which takes over a second to import)
  import ee
  collections = [sensors.masked_collection(s, bands, start, end, region) for s in sensors_in_service]
  empty = ee.Image.constant([0.0] * len(bands)).select(
      ["constant"] + [f"constant_{i}" for i in range(1, len(bands))], list(bands)).updateMask(0)
  merged = ee.ImageCollection([empty])
  for collection in collections:
    merged = merged.merge(collection)
  return merged.median()


def earthengine_frames(years, polygons, bands, out_dir: str, instrument: str = "landsat",
                       concurrency: int = 4) -> tuple[Grid, dict[str, str], dict[str, str]]:
  """Fetches and writes <out_dir>/<year>.tif for each year; returns (grid, {year: path}, {skipped year: reason}).
  Earth Engine must be initialised (redes.ingest.earthengine.credentials.initialize)."""
  grid = utm_grid(polygons)
  region = ee_geometry(polygons)
  frames, skipped = {}, {}
  for year in years:
    start, end, in_service = year_window(year, instrument)
    label = str(year)
    if not in_service:
      skipped[label] = f"no {instrument} sensor in service from {start} to {end} (exclusive)"
    else:
      image = _composite(in_service, bands, start, end, region)
      data = fetch_frame(image, grid, bands, concurrency)
      if np.isfinite(data).all(axis=0).any():
        frames[label] = write_cog(os.path.join(out_dir, f"{label}.tif"), data, grid, bands)
        logging.info("frame %s: %s from %s to %s", label, "+".join(s.slug for s in in_service), start, end)
        continue
      skipped[label] = f"no clear {'/'.join(s.slug for s in in_service)} pixel from {start} to {end} (exclusive)"
    logging.warning("frame %s skipped: %s", label, skipped[label])
  return grid, frames, skipped
