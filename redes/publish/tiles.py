"""Web-mercator XYZ tile pyramids of reflectance GeoTIFFs (rio-tiler reads, morecantile lays out the grid), and
their TileJSON. Called by redes.publish.timeseries for every layer and frame.

Layout: `<directory>/{z}/{x}/{y}.<png|webp>`, 256-pixel RGB tiles with transparency where the source is no-data;
reflectance is drawn through the region's stretch (redes.publish.stretch), or 0..REFLECTANCE_MAX without one. A
one-band raster (the uncertainty layer) is drawn from 0 to SPREAD_MAX through a colour map. Each tile is written to a
temporary name and renamed, so an interrupted run never leaves a truncated tile, and a re-run skips the tiles already
there unless `overwrite`. Tiles are read METATILE x METATILE at a time (one warp for the square, then cut); the
squares are the units redes.publish.publishing_pipeline shares among its workers. Tiles are encoded by Pillow, which
releases the GIL while it compresses (GDAL's PNG driver, behind rio-tiler's render, holds it), so that the squares
of one process's threads are tiled in parallel.
"""
import dataclasses
import io
import json
import os

import morecantile
import numpy as np
from PIL import Image
from rasterio.crs import CRS
from rio_tiler.colormap import apply_cmap, cmap
from rio_tiler.io import Reader
from rio_tiler.models import ImageData

from redes.atomic import write_atomically
from redes.heap import keep_freed_memory
from redes.publish.stretch import Stretch

REFLECTANCE_MAX = 0.3
SPREAD_MAX = 0.01        # reflectance; the top of the uncertainty layer's colour map
SPREAD_COLORMAP = "magma"
TILE_SIZE = 256
METATILE = 8             # tiles per side of the square read from the raster in one warp
TMS = morecantile.tms.get("WebMercatorQuad")
FORMATS = {"png": "PNG", "webp": "WEBP"}
LINEAR = Stretch((0.0,) * 3, (REFLECTANCE_MAX,) * 3, 1.0)   # RGB without a region's stretch
ENCODING = {"png": {"compress_level": 6}, "webp": {"quality": 75}}   # GDAL's defaults for these drivers


def tiles_for(bounds, min_z: int, max_z: int) -> list[morecantile.Tile]:
  return list(TMS.tiles(*bounds, zooms=list(range(min_z, max_z + 1))))


def tile_path(directory: str, tile, ext: str) -> str:
  return os.path.join(directory, str(tile.z), str(tile.x), f"{tile.y}.{ext}")


def geographic_bounds(geotiff: str) -> tuple[float, float, float, float]:
  with Reader(geotiff, tms=TMS) as src:
    return tuple(src.get_geographic_bounds(CRS.from_epsg(4326)))


def metatiles(tiles) -> list[list[morecantile.Tile]]:
  """The tiles grouped by METATILE x METATILE squares of one zoom (each group read from the raster at once)."""
  groups = {}
  for tile in tiles:
    groups.setdefault((tile.z, tile.x // METATILE, tile.y // METATILE), []).append(tile)
  return list(groups.values())


@dataclasses.dataclass(frozen=True)
class PyramidJob:
  """What every metatile of one pyramid shares: tiles of `geotiff` (RGB from bands 1..3, or its one band through
  the colour map) into `directory`, drawn through `stretch`; existing tiles are kept unless `overwrite`."""
  geotiff: str
  directory: str
  fmt: str
  overwrite: bool
  stretch: Stretch | None


def _drawn(image: ImageData, one_band: bool, stretch: Stretch | None):
  """(8-bit image, colour map or None) of a reflectance (or spread) tile read from the raster."""
  if one_band:
    image.array.set_fill_value(0)   # masked pixels stay transparent; a NaN fill value cannot be cast to bytes
    image.rescale(in_range=((0.0, SPREAD_MAX),))
    return image, cmap.get(SPREAD_COLORMAP)
  drawn = (stretch or LINEAR).to_bytes(image.array.filled(np.nan))
  return ImageData(np.ma.MaskedArray(drawn, mask=np.ma.getmaskarray(image.array))), None


def encoded(image: ImageData, colormap, fmt: str) -> bytes:
  """The RGBA tile of an 8-bit image (its mask as the alpha; a one-band image through `colormap`) as PNG or WebP
  bytes."""
  data, alpha = image.data, image.mask
  if colormap:
    data, colours_alpha = apply_cmap(data, colormap)
    alpha = np.where(alpha > 0, colours_alpha, np.uint8(0))
  rgba = np.empty((*alpha.shape, 4), np.uint8)          # filled band by band: no stacked copy to transpose
  for channel, values in enumerate((*data, alpha)):
    rgba[..., channel] = values
  buffer = io.BytesIO()
  Image.fromarray(rgba, "RGBA").save(buffer, format=FORMATS[fmt], **ENCODING[fmt])
  return buffer.getvalue()


def write_metatile(job: PyramidJob, group: list[morecantile.Tile]) -> tuple[int, int]:
  """Reads the square of `group` (one of `metatiles`) from the raster in one warp, cuts it into tiles and writes
  those not already there (all with overwrite); returns (written, skipped). The square's extent does not depend on
  which of its tiles remain to be written, so a tile comes out the same whenever and wherever it is written."""
  todo = [t for t in group if job.overwrite or not os.path.exists(tile_path(job.directory, t, job.fmt))]
  if not todo:
    return 0, len(group)
  keep_freed_memory()           # a square's arrays (48 MB at 8 x 8 tiles) come back for the next, not fresh pages
  with Reader(job.geotiff, tms=TMS) as src:
    one_band = src.dataset.count == 1
    x0, y0 = min(t.x for t in group), min(t.y for t in group)    # the whole square, whatever is left to write
    x1, y1 = max(t.x for t in group), max(t.y for t in group)
    left, _, _, top = TMS.xy_bounds(morecantile.Tile(x0, y0, group[0].z))
    _, bottom, right, _ = TMS.xy_bounds(morecantile.Tile(x1, y1, group[0].z))
    square = src.part((left, bottom, right, top), dst_crs=TMS.rasterio_crs, bounds_crs=TMS.rasterio_crs,
                      width=(x1 - x0 + 1) * TILE_SIZE, height=(y1 - y0 + 1) * TILE_SIZE,
                      indexes=(1,) if one_band else (1, 2, 3), resampling_method="bilinear", unscale=True)
  for tile in todo:
    rows = slice((tile.y - y0) * TILE_SIZE, (tile.y - y0 + 1) * TILE_SIZE)
    cols = slice((tile.x - x0) * TILE_SIZE, (tile.x - x0 + 1) * TILE_SIZE)
    image, colormap = _drawn(ImageData(square.array[:, rows, cols]), one_band, job.stretch)
    write_atomically(tile_path(job.directory, tile, job.fmt), encoded(image, colormap, job.fmt))
  return len(todo), len(group) - len(todo)


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
