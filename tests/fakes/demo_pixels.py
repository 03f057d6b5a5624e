"""Pixels for the fake Earth Engine, cut from the real demo Sentinel-2 scene (Chincoteague, EPSG:32618).

Sentinel-2 requests get the scene's 10 m reflectance resampled onto the requested grid; Landsat requests get the
same reflectance averaged onto their (30 m) grid. Outside the scene the answer is the request's no-data value.
"""
import json

import numpy as np
from rasterio.transform import Affine
from rasterio.warp import Resampling, reproject, transform_bounds
from rasterio.windows import from_bounds

from redes.ingest import demo_data
from redes.ingest.earthengine.transfer import NODATA

BANDS = ("red", "green", "blue", "nir")


class DemoPixels:

  def __init__(self, directory=None):
    self.image, self.crs, self.transform = demo_data.sentinel2_reflectance(BANDS, directory)

  def __call__(self, body: dict) -> np.ndarray:
    grid = body["grid"]
    t = grid["affineTransform"]
    transform = Affine(t["scaleX"], t.get("shearX", 0.0), t["translateX"], t.get("shearY", 0.0), t["scaleY"],
                       t["translateY"])
    width, height = grid["dimensions"]["width"], grid["dimensions"]["height"]
    landsat = "LANDSAT/" in json.dumps(body["expression"])
    out = np.full((height, width, len(body["bandIds"])), np.nan, np.float32)
    # Only the scene pixels under the grid (and a margin) take part: cheap answers keep the fake out of the way.
    left, top = transform @ (0, 0)
    right, bottom = transform @ (width, height)
    window = from_bounds(*transform_bounds(grid["crsCode"], self.crs, left, bottom, right, top),
                         transform=self.transform)
    row0 = int(np.clip(np.floor(window.row_off) - 2, 0, self.image.shape[0]))
    col0 = int(np.clip(np.floor(window.col_off) - 2, 0, self.image.shape[1]))
    row1 = int(np.clip(np.ceil(window.row_off + window.height) + 2, 0, self.image.shape[0]))
    col1 = int(np.clip(np.ceil(window.col_off + window.width) + 2, 0, self.image.shape[1]))
    if row1 <= row0 or col1 <= col0:
      return np.full(out.shape, NODATA, np.float32)
    source = self.image[row0:row1, col0:col1]
    source_transform = self.transform @ Affine.translation(col0, row0)
    for i, band in enumerate(body["bandIds"]):
      reproject(source[..., BANDS.index(band)], out[..., i], src_transform=source_transform, src_crs=self.crs,
                dst_transform=transform, dst_crs=grid["crsCode"], src_nodata=np.nan, dst_nodata=np.nan,
                resampling=Resampling.average if landsat else Resampling.nearest)
    return np.where(np.isfinite(out), out, NODATA).astype(np.float32)
