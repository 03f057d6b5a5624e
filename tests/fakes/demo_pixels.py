"""Pixels for the fake Earth Engine, cut from the real demo Sentinel-2 scene (Chincoteague, EPSG:32618).

Sentinel-2 requests get the scene's 10 m reflectance resampled onto the requested grid; Landsat requests get the
same reflectance averaged onto their (30 m) grid. Outside the scene the answer is the request's no-data value.
"""
import json

import numpy as np
from rasterio.transform import Affine
from rasterio.warp import Resampling, reproject

from redes import demo_data
from redes.earthengine.transfer import NODATA

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
    for i, band in enumerate(body["bandIds"]):
      reproject(self.image[..., BANDS.index(band)], out[..., i], src_transform=self.transform, src_crs=self.crs,
                dst_transform=transform, dst_crs=grid["crsCode"], src_nodata=np.nan, dst_nodata=np.nan,
                resampling=Resampling.average if landsat else Resampling.nearest)
    return np.where(np.isfinite(out), out, NODATA).astype(np.float32)
