"""Web-mercator XYZ tile pyramids of reflectance GeoTIFFs (rio-tiler reads, morecantile lays out the grid), and
their TileJSON. Called by redes.publish.timeseries for every layer and frame.

Layout: `<directory>/{z}/{x}/{y}.<png|webp>`, 256-pixel RGB tiles with transparency where the source is no-data;
reflectance is drawn through the region's stretch (redes.publish.stretch), or 0..REFLECTANCE_MAX without one. A
one-band raster (the uncertainty layer) is drawn from 0 to SPREAD_MAX through a colour map. Each tile is written to a
temporary name and renamed, so an interrupted run never leaves a truncated tile, and a re-run skips the tiles already
there unless `overwrite`.
"""
import dataclasses
import json
import logging
import os

import morecantile
import numpy as np
from rasterio.crs import CRS
from rio_tiler.colormap import cmap
from rio_tiler.io import Reader
from rio_tiler.models import ImageData
from tqdm import tqdm

from redes.atomic import write_atomically
from redes.publish.stretch import Stretch

REFLECTANCE_MAX = 0.3
SPREAD_MAX = 0.01        # reflectance; the top of the uncertainty layer's colour map
SPREAD_COLORMAP = "magma"
TILE_SIZE = 256
TMS = morecantile.tms.get("WebMercatorQuad")
FORMATS = {"png": "PNG", "webp": "WEBP"}


@dataclasses.dataclass(frozen=True)
class Pyramid:
  written: int                                   # tiles written by this call
  skipped: int                                   # tiles already there (not overwritten)
  bounds: tuple[float, float, float, float]      # west, south, east, north (WGS84)

  @property
  def count(self) -> int:
    return self.written + self.skipped


def tiles_for(bounds, min_z: int, max_z: int) -> list[morecantile.Tile]:
  return list(TMS.tiles(*bounds, zooms=list(range(min_z, max_z + 1))))


def tile_path(directory: str, tile, ext: str) -> str:
  return os.path.join(directory, str(tile.z), str(tile.x), f"{tile.y}.{ext}")


def geographic_bounds(geotiff: str) -> tuple[float, float, float, float]:
  with Reader(geotiff, tms=TMS) as src:
    return tuple(src.get_geographic_bounds(CRS.from_epsg(4326)))


def write_pyramid(geotiff: str, directory: str, min_z: int, max_z: int, fmt: str = "png",
                  overwrite: bool = False, bounds=None, stretch: Stretch | None = None) -> Pyramid:
  """Writes the tiles of `geotiff` (RGB from bands 1..3: red, green, blue; or its one band through the colour map)
  from min_z to max_z into directory; `bounds` (WGS84) fixes the tile set, so that every frame of a region has the
  same tiles."""
  written = skipped = 0
  bounds = tuple(bounds or geographic_bounds(geotiff))
  with Reader(geotiff, tms=TMS) as src:
    one_band = src.dataset.count == 1
    indexes, in_range = ((1,), ((0.0, SPREAD_MAX),)) if one_band else ((1, 2, 3), ((0.0, REFLECTANCE_MAX),) * 3)
    colormap = cmap.get(SPREAD_COLORMAP) if one_band else None
    tiles = tiles_for(bounds, min_z, max_z)
    label = os.path.join(*os.path.normpath(directory).split(os.sep)[-2:])   # <layer>/<frame>, never cut
    for tile in tqdm(tiles, desc=f"tiles {label}", unit="tile", leave=False):
      path = tile_path(directory, tile, fmt)
      if not overwrite and os.path.exists(path):
        skipped += 1
        continue
      image = src.tile(tile.x, tile.y, tile.z, tilesize=TILE_SIZE, indexes=indexes, resampling_method="bilinear")
      if stretch is not None and not one_band:
        drawn = stretch.to_bytes(image.array.filled(np.nan))
        image = ImageData(np.ma.MaskedArray(drawn, mask=np.ma.getmaskarray(image.array)))
      else:
        image.array.set_fill_value(0)   # masked pixels stay transparent; a NaN fill value cannot be cast to bytes
        image.rescale(in_range=in_range)
      write_atomically(path, image.render(img_format=FORMATS[fmt], colormap=colormap))
      written += 1
  logging.info("tiles z%d-%d in %s: %d written, %d already there", min_z, max_z, directory, written, skipped)
  return Pyramid(written, skipped, bounds)


def write_tilejson(path: str, name: str, tiles_url: str, bounds, min_z: int, max_z: int, description: str,
                   stretch: Stretch | None = None) -> str:
  """A TileJSON 3.0.0 document; tiles_url is relative to the document's folder. The stretch the tiles were drawn
  with goes in `redes:stretch`."""
  west, south, east, north = bounds
  document = {"tilejson": "3.0.0", "name": name, "description": description, "scheme": "xyz",
              "tiles": [tiles_url], "minzoom": min_z, "maxzoom": max_z, "bounds": [west, south, east, north],
              "center": [(west + east) / 2, (south + north) / 2, min_z]}
  if stretch is not None:
    document["redes:stretch"] = stretch.record()
  return write_atomically(path, json.dumps(document, indent=2))
