"""A STAC catalog of a published region (pystac), written by redes.publish.timeseries after the tiles: a Collection
with one Item per year, whose assets are that year's original and enhanced COGs (and the uncertainty COG when
published) with the projection and raster extensions, at `<region>/stac/collection.json`. Links are relative, so
the region's folder can be copied or served as it is. The catalog is written to a staging folder and renamed.
"""
import datetime
import os
import shutil

import pystac
import rasterio
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import DataType, RasterBand, RasterExtension
from shapely.geometry import box, mapping

STAC_DIR = "stac"
ROLES = {"original": "30 m Landsat reflectance on the region's grid", "enhanced": "super-resolved reflectance",
         "uncertainty": "spread of the model's outputs over the 8 flips and rotations of the input"}


def _interval(label: str) -> tuple[datetime.datetime | None, dict]:
  """(datetime, extra properties) of a frame: a year's whole span, or the publication time for another label."""
  if label.isdigit():
    return None, {"start_datetime": f"{label}-01-01T00:00:00Z", "end_datetime": f"{label}-12-31T23:59:59Z"}
  return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0), {}


def _add_asset(item: pystac.Item, layer: str, path: str, item_dir: str) -> None:
  asset = pystac.Asset(os.path.relpath(path, item_dir), title=f"{layer} COG", description=ROLES[layer],
                       media_type=pystac.MediaType.COG, roles=["data"])
  item.add_asset(layer, asset)
  with rasterio.open(path) as src:
    projection = ProjectionExtension.ext(asset, add_if_missing=True)
    projection.code = src.crs.to_string()
    projection.shape = [src.height, src.width]
    projection.transform = list(src.transform)[:6]
    RasterExtension.ext(asset, add_if_missing=True).bands = [
        RasterBand.create(nodata="nan", data_type=DataType.FLOAT32, unit="reflectance" if layer != "uncertainty"
                          else "reflectance (standard deviation)", spatial_resolution=abs(src.transform.a))
        for _ in range(src.count)]


def write_catalog(region_dir: str, region_name: str, layer_paths: dict, bounds, description: str) -> str:
  """layer_paths: {layer: {label: COG}}; returns the Collection's path."""
  labels = sorted(next(iter(layer_paths.values())))
  footprint = mapping(box(*bounds))
  starts = [_interval(label) for label in labels]
  times = [when or datetime.datetime.fromisoformat(extra["start_datetime"].replace("Z", "+00:00"))
           for when, extra in starts]
  collection = pystac.Collection(
      id=region_name, description=description, license="other",
      extent=pystac.Extent(pystac.SpatialExtent([list(bounds)]), pystac.TemporalExtent([[min(times), max(times)]])))
  staging = os.path.join(region_dir, f".{STAC_DIR}-{os.getpid()}-staging")   # a folder name pystac takes as one
  for label, (when, extra) in zip(labels, starts):
    item = pystac.Item(id=f"{region_name}-{label}", geometry=footprint, bbox=list(bounds), datetime=when,
                       properties=extra)
    for layer, paths in layer_paths.items():    # hrefs relative to the item's folder, <region>/stac/<item id>/
      _add_asset(item, layer, paths[label], os.path.join(region_dir, STAC_DIR, item.id))
    collection.add_item(item)
  collection.normalize_hrefs(staging)
  collection.save(pystac.CatalogType.SELF_CONTAINED)
  target = os.path.join(region_dir, STAC_DIR)
  if os.path.isdir(target):
    shutil.rmtree(target)
  os.replace(staging, target)
  return os.path.join(target, "collection.json")
