"""Yearly frames of a region, for redes.publish.timeseries: one reflectance COG (redes.publish.cog) per
year, all on one grid, so that frame i of every animation is year i and tiles of every year line up.

`write_original_frames` picks the source, for TileGen and `redes tiles` alike: local rasters (one per year, any CRS),
Earth Engine years (redes.publish.earthengine_frames), or one default raster (the demo scene). For local rasters the
grid takes the CRS and pixel size of the earliest year's raster; its extent is the geometry's bounds (snapped outwards
to that raster's pixel grid) or, without a geometry, that raster's extent. Each year's raster is resampled onto it; a
year with no valid pixel in the region is reported and skipped.
"""
import logging
import os

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT

from redes.bands import check_band_count
from redes.ingest.earthengine import credentials
from redes.ingest.regions import read_polygons
from redes.publish import cog
from redes.publish.earthengine_frames import earthengine_frames
from redes.publish.grid import FrameError, Grid, region_grid, write_cog


def local_frames(rasters: dict[str, str], grid: Grid, out_dir: str, bands, dn_scale: float = 1.0,
                 dn_offset: float = 0.0) -> tuple[dict[str, str], dict[str, str]]:
  """Resamples each year's raster onto the grid as reflectance (DN * dn_scale + dn_offset, DN being the raster's
  values with its bands' own scale and offset applied, as a Redes COG stores them) and writes <out_dir>/<year>.tif;
  returns ({year: path}, {skipped year: reason})."""
  for year, path in sorted(rasters.items()):      # every raster is checked before anything is written
    with rasterio.open(path) as src:
      check_band_count(f"{path} (year {year})", src.count, bands, FrameError)
  frames, skipped = {}, {}
  for year, path in sorted(rasters.items()):
    with rasterio.open(path) as src:
      with WarpedVRT(src, crs=grid.crs, transform=grid.transform, width=grid.width, height=grid.height,
                     resampling=Resampling.bilinear, nodata=src.nodata if src.nodata is not None else np.nan,
                     dtype="float32") as vrt:
        reflectance = cog.read_values(vrt) * np.float32(dn_scale) + np.float32(dn_offset)   # the VRT keeps the scales
    reflectance[:, ~np.isfinite(reflectance).all(axis=0)] = np.nan
    if not np.isfinite(reflectance).any():
      skipped[year] = f"{path} has no valid pixel in the region"
      logging.warning("frame %s skipped: %s", year, skipped[year])
      continue
    frames[year] = write_cog(os.path.join(out_dir, f"{year}.tif"), reflectance, grid, bands)
  return frames, skipped


def write_original_frames(region_dir: str, bands, rasters=None, geometry: str = "", start_year: int = 0,
                          stop_year: int = 0, instrument: str = "landsat", ee_url: str = "", default_raster: str = "",
                          dn_scale: float = 1.0, dn_offset: float = 0.0) -> tuple[dict[str, str], dict[str, str]]:
  """Writes the original frames under <region_dir>/original/; returns ({year: COG}, {skipped year: reason})."""
  polygons = read_polygons(geometry) if geometry else None
  out_dir = os.path.join(region_dir, "original")
  if rasters:
    return local_frames(rasters, region_grid(rasters[min(rasters)], polygons), out_dir, bands, dn_scale, dn_offset)
  if start_year:
    if not polygons:
      raise FrameError("Earth Engine frames need --geometry (a GeoJSON of the region)")
    credentials.initialize(url=ee_url or None)
    _, frames, skipped = earthengine_frames(range(start_year, stop_year + 1), polygons, bands, out_dir, instrument)
    return frames, skipped
  return local_frames({"scene": default_raster}, region_grid(default_raster, polygons), out_dir, bands)
