"""A STAC catalog of a published region (pystac), written by redes.publish.timeseries after the tiles: a Collection
with one Item per year, whose assets are that year's original and enhanced COGs (and the uncertainty COG when
published) with the projection and raster extensions, and one Item describing the model that made the enhanced
frames with the Machine Learning Model (MLM) extension (its bands, scale, input and output, framework, and, from a
pipeline run, its headline metrics and the run), at `<region>/stac/collection.json`. Links are relative, so the
region's folder can be copied or served as it is. The catalog is written to a staging folder, every file is
validated against the STAC 1.1 core JSON schemas (the copies pystac ships, so no network), and then renamed. The
extensions' schemas are published only online; check_schemas takes copies of them (the tests' recorded ones).
"""
import dataclasses
import datetime
import glob
import importlib.metadata
import json
import os
import shutil

import pystac
import pystac.validation
import rasterio
from pystac.extensions import mlm
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import DataType, RasterBand, RasterExtension
from shapely.geometry import box, mapping

from redes.model_info import OUTPUT_KEY, ModelInfo

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
        RasterBand.create(nodata=src.nodata, data_type=DataType(src.dtypes[band]), scale=src.scales[band],
                          offset=src.offsets[band], unit="reflectance" if layer != "uncertainty"
                          else "reflectance (standard deviation)", spatial_resolution=abs(src.transform.a))
        for band in range(src.count)]


ARCHITECTURES = {"residual": "residual CNN generator (low-resolution convolutions, pixel shuffle, bicubic skip)",
                 "srgan": "SRGAN generator (16 residual blocks, batch norm, PReLU)",
                 "bicubic": "bicubic interpolation (no learned weights)"}


@dataclasses.dataclass(frozen=True)
class ModelRecord:
  """The model that made the enhanced frames: where it is, what it takes, and (from a pipeline run) how it scored
  and which run made it."""
  path: str                          # the served model's folder
  info: ModelInfo
  identity: str                      # digest of the model's files (redes.publish.manifest.model_identity)
  metrics: dict = dataclasses.field(default_factory=dict)   # headline metrics (RunReport's), empty outside a run
  run: str = ""                      # the pipeline run that trained and pushed it


def _model_item(model: ModelRecord, region_name: str, footprint: dict, bounds, item_dir: str) -> pystac.Item:
  """The MLM Item of the model (STAC MLM 1.4): reflectance in, reflectance at pixel size / scale out."""
  info, bands = model.info, list(model.info.bands)
  properties = {"redes:scaling_factor": info.scaling_factor, "redes:model_identity": model.identity,
                "redes:trained_for": info.trained_for, "redes:metrics": model.metrics, "redes:run": model.run or None}
  item = pystac.Item(id=f"{region_name}-model", geometry=footprint, bbox=list(bounds),
                     datetime=datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0),
                     properties={k: v for k, v in properties.items() if v})
  dims = ["batch", "height", "width", "bands"]
  model_input = mlm.ModelInput.create(
      name="lr", bands=bands, input=mlm.InputStructure.create([-1, -1, -1, len(bands)], dims, mlm.DataType.FLOAT32),
      description="Landsat reflectance, 0..1 (float32), NaN-free; any height and width")
  model_output = mlm.ModelOutput.create(
      name=OUTPUT_KEY, tasks=[mlm.TaskType.SUPER_RESOLUTION],
      result=mlm.ResultStructure.create([-1, -1, -1, len(bands)], dims, mlm.DataType.FLOAT32),
      description=f"reflectance on the input's grid refined {info.scaling_factor} times (pixel size / "
                  f"{info.scaling_factor}), the same bands")
  mlm.MLMExtension.ext(item, add_if_missing=True).apply(
      name=info.name, architecture=ARCHITECTURES.get(info.name, info.name), tasks=[mlm.TaskType.SUPER_RESOLUTION],
      input=[model_input], output=[model_output], framework="TensorFlow",
      framework_version=importlib.metadata.version("tensorflow"), pretrained=info.trained_for is not None)
  href = os.path.relpath(model.path, item_dir) if "://" not in model.path else model.path
  asset = pystac.Asset(href, title="SavedModel", roles=["mlm:model"], media_type="application/octet-stream; "
                       "framework=tensorflow; profile=saved-model",
                       extra_fields={"mlm:artifact_type": "tf.saved_model.save"})
  item.add_asset("model", asset)
  # MLM requires the bands its input names to be described where the model asset is, each with that name
  RasterExtension.ext(asset, add_if_missing=True).bands = [
      RasterBand({**RasterBand.create(data_type=DataType.FLOAT32, unit="reflectance").to_dict(), "name": band})
      for band in bands]
  return item


def check_schemas(folder: str, extension_schemas: dict | None = None) -> int:
  """Validates every STAC file under `folder` against the STAC core JSON schema of its type (Collection, Item),
  with the schemas pystac ships, and returns how many were checked. With `extension_schemas` ({published address:
  schema}, every extension a file declares and the schemas they refer to), each file is also validated against the
  schemas of the extensions it declares; without them, extensions are not checked (their schemas are published
  only online). Raises pystac.errors.STACValidationError naming the file and the schema."""
  validator = None
  if extension_schemas is not None:
    validator = pystac.validation.JsonSchemaSTACValidator()
    validator.schema_cache.update(extension_schemas)
  paths = sorted(glob.glob(os.path.join(folder, "**", "*.json"), recursive=True))
  for path in paths:
    with open(path) as f:
      pystac.validation.validate_dict(json.load(f), extensions=None if validator else [], href=path,
                                      validator=validator)
  return len(paths)


def write_catalog(region_dir: str, region_name: str, layer_paths: dict, bounds, description: str,
                  model: ModelRecord) -> str:
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
  model_item = _model_item(model, region_name, footprint, bounds, os.path.join(region_dir, STAC_DIR,
                                                                               f"{region_name}-model"))
  collection.add_item(model_item)
  collection.normalize_hrefs(staging)
  try:
    collection.save(pystac.CatalogType.SELF_CONTAINED)
    check_schemas(staging)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  target = os.path.join(region_dir, STAC_DIR)
  if os.path.isdir(target):
    shutil.rmtree(target)
  os.replace(staging, target)
  return os.path.join(target, "collection.json")
