"""Patch footprints of a region: where LR/HR pairs are cut, in the region's local UTM zone.

A footprint is a square of patch_size high-resolution pixels (10 m) whose corners lie on the low-resolution grid
(30 m), in the UTM zone of the polygon's centroid (square pixels, metres, no EPSG:4326 anisotropy). Its 30 m grid
(patch_size/scale pixels) and 10 m grid (patch_size pixels) cover exactly the same ground. Footprints tile each
polygon without overlap, on a grid anchored at multiples of the footprint size, so the same region always gives
the same footprints; at most sample_size of them are kept per polygon (a seeded random choice).
The split rule of every source is here too: patch rows are split into train, eval and test from top to bottom
(split_patch_rows), so no ground belongs to two splits.
"""
import dataclasses

import numpy as np
from pyproj import Transformer
from rasterio.transform import Affine
from shapely.geometry import box
from shapely.ops import transform
from shapely.prepared import prep


# The geographic split of every source: bands of patch rows, train on top, then eval, then test.
SPLIT_FRACTIONS = {"train": 0.70, "eval": 0.15, "test": 0.15}


@dataclasses.dataclass(frozen=True)
class Footprint:
  epsg: int
  left: float              # metres, UTM
  top: float
  patch_size: int         # high-resolution pixels per side
  scale: int
  hr_resolution: float = 10.0

  @property
  def lr_resolution(self) -> float:
    return self.hr_resolution * self.scale

  @property
  def size_m(self) -> float:
    return self.patch_size * self.hr_resolution

  @property
  def patch_id(self) -> str:
    return f"{self.epsg}_{int(round(self.left))}_{int(round(self.top))}"

  def transform(self, resolution: float) -> Affine:
    return Affine(resolution, 0.0, self.left, 0.0, -resolution, self.top)

  def pixels(self, resolution: float) -> int:
    return int(round(self.size_m / resolution))

  def center_lonlat(self) -> tuple[float, float]:
    to_wgs84 = Transformer.from_crs(self.epsg, 4326, always_xy=True)
    lon, lat = to_wgs84.transform(self.left + self.size_m / 2, self.top - self.size_m / 2)
    return float(lon), float(lat)


def utm_epsg(lon: float, lat: float) -> int:
  """EPSG code of the WGS84 / UTM zone holding (lon, lat)."""
  zone = min(int((lon + 180.0) // 6.0) + 1, 60)
  return (32600 if lat >= 0 else 32700) + zone


def to_utm(polygon, epsg: int):
  """The WGS84 shapely polygon in the given UTM zone."""
  return transform(Transformer.from_crs(4326, epsg, always_xy=True).transform, polygon)


def layout(polygon, patch_size: int, scale: int, sample_size: int = 0, seed: int = 0,
           hr_resolution: float = 10.0) -> list[Footprint]:
  """Footprints fully inside a WGS84 shapely polygon; at most sample_size (0: all), sorted top-left first."""
  centroid = polygon.centroid
  epsg = utm_epsg(centroid.x, centroid.y)
  local = to_utm(polygon, epsg)
  inside = prep(local)
  size = patch_size * hr_resolution
  minx, miny, maxx, maxy = local.bounds
  lefts = np.arange(np.floor(minx / size) * size, maxx, size)
  tops = np.arange(np.ceil(maxy / size) * size, miny, -size)
  footprints = [Footprint(epsg, float(x), float(y), patch_size, scale, hr_resolution)
                for y in tops for x in lefts if inside.contains(box(x, y - size, x + size, y))]
  if 0 < sample_size < len(footprints):
    chosen = np.sort(np.random.default_rng(seed).choice(len(footprints), sample_size, replace=False))
    footprints = [footprints[i] for i in chosen]
  return footprints


def split_patch_rows(n_patch_rows: int) -> dict[str, range]:
  """Patch-row ranges of each split, top to bottom; eval and test get at least one row each."""
  if n_patch_rows < 3:
    raise ValueError(f"the scene holds {n_patch_rows} rows of patches; at least 3 are needed (one per split)")
  n_eval = max(1, round(n_patch_rows * SPLIT_FRACTIONS["eval"]))
  n_test = max(1, round(n_patch_rows * SPLIT_FRACTIONS["test"]))
  n_train = n_patch_rows - n_eval - n_test
  return {"train": range(0, n_train), "eval": range(n_train, n_train + n_eval),
          "test": range(n_train + n_eval, n_patch_rows)}
