"""Web-mercator XYZ tile pyramids of reflectance GeoTIFFs (rio-tiler reads, morecantile lays out the grid).

Layout: `<root>/<layer>/<frame>/{z}/{x}/{y}.png`, 256-pixel RGB PNG tiles with transparency where the source is
no-data; reflectance 0..REFLECTANCE_MAX is stretched to 0..255. Each tile is written to a temporary name and
renamed, so an interrupted run never leaves a truncated tile.
"""
import dataclasses
import logging
import os

import morecantile
from tqdm import tqdm

REFLECTANCE_MAX = 0.3
TILE_SIZE = 256
TMS = morecantile.tms.get("WebMercatorQuad")


@dataclasses.dataclass(frozen=True)
class Pyramid:
  directory: str
  count: int
  bounds: tuple[float, float, float, float]   # west, south, east, north (WGS84)
  min_z: int
  max_z: int


def tiles_for(bounds, min_z: int, max_z: int) -> list[morecantile.Tile]:
  return list(TMS.tiles(*bounds, zooms=list(range(min_z, max_z + 1))))


def write_pyramid(geotiff: str, directory: str, min_z: int, max_z: int) -> Pyramid:
  """Writes the RGB tiles of `geotiff` (bands 1..3 red, green, blue) from min_z to max_z into directory."""
  from rasterio.crs import CRS  # pylint: disable=import-outside-toplevel
  from rio_tiler.io import Reader  # pylint: disable=import-outside-toplevel
  count = 0
  with Reader(geotiff, tms=TMS) as src:
    bounds = tuple(src.get_geographic_bounds(CRS.from_epsg(4326)))
    tiles = tiles_for(bounds, min_z, max_z)
    for tile in tqdm(tiles, desc=f"tiles {os.path.basename(directory)}", unit="tile", leave=False):
      image = src.tile(tile.x, tile.y, tile.z, tilesize=TILE_SIZE, indexes=(1, 2, 3), resampling_method="bilinear")
      image.rescale(in_range=((0.0, REFLECTANCE_MAX),) * 3)
      path = os.path.join(directory, str(tile.z), str(tile.x), f"{tile.y}.png")
      os.makedirs(os.path.dirname(path), exist_ok=True)
      with open(f"{path}.part", "wb") as f:
        f.write(image.render(img_format="PNG"))
      os.replace(f"{path}.part", path)
      count += 1
  logging.info("wrote %d tiles (z%d-%d) to %s", count, min_z, max_z, directory)
  return Pyramid(directory, count, bounds, min_z, max_z)
