"""Bulk mode of the Earth Engine source: Export tasks to Cloud Storage instead of one request per patch.

For each polygon of each split, two Export.image tasks write the Landsat composite (at pixel_size_m x scaling_factor m)
and the Sentinel-2 composite (at pixel_size_m) as Cloud-Optimized GeoTIFFs on one UTM grid covering the polygon's
footprints. Task ids are kept in a manifest beside the pair cache, so a re-run polls the same tasks instead of
starting new ones (a task that failed is started again). A task that ends FAILED or CANCELLED stops the run with
its id, description and error. Patches are then cut from the exported rasters like any rasters
(redes.ingest.raster_pairs).
"""
import dataclasses
import json
import logging
import os
import time

from redes.atomic import write_atomically
from redes.ingest.earthengine import sensors
from redes.ingest.earthengine.transfer import NODATA
from redes.ingest.raster_pairs import RasterSource

FAILED_STATES = ("FAILED", "CANCELLED", "CANCEL_REQUESTED")
MANIFEST = "exports.json"


class ExportError(RuntimeError):
  pass


@dataclasses.dataclass(frozen=True)
class ExportJob:
  split: str
  polygon: int
  slug: str
  uri: str            # gs://bucket/prefix.tif
  task_id: str
  description: str


def polygon_grid(footprints, resolution: float) -> tuple[int, list, str]:
  """(epsg, crsTransform, "WxH") of the smallest grid at `resolution` holding every footprint of one polygon."""
  left = min(f.left for f in footprints)
  top = max(f.top for f in footprints)
  right = max(f.left + f.size_m for f in footprints)
  bottom = min(f.top - f.size_m for f in footprints)
  width, height = round((right - left) / resolution), round((top - bottom) / resolution)
  return footprints[0].epsg, [resolution, 0, left, 0, -resolution, top], f"{width}x{height}"


def _start(image, description: str, bucket: str, prefix: str, footprints, resolution: float) -> str:
  # pylint: disable-next=import-outside-toplevel  (only Earth Engine runs need ee, which takes over a second to import)
  import ee
  epsg, crs_transform, dimensions = polygon_grid(footprints, resolution)
  task = ee.batch.Export.image.toCloudStorage(
      image=image.unmask(NODATA).toFloat(), description=description, bucket=bucket, fileNamePrefix=prefix,
      crs=f"EPSG:{epsg}", crsTransform=crs_transform, dimensions=dimensions, fileFormat="GeoTIFF",
      formatOptions={"cloudOptimized": True}, maxPixels=1e13)
  task.start()
  logging.info("started Earth Engine export %s (%s) to gs://%s/%s.tif", task.id, description, bucket, prefix)
  return task.id


def start(ds, planned: dict, composites: dict, bucket: str, manifest_dir: str) -> list[ExportJob]:
  """Starts (or finds in the manifest) the export tasks of every polygon; composites[(split, i)] = (low, high)."""
  # pylint: disable-next=import-outside-toplevel  (only Earth Engine runs need ee, which takes over a second to import)
  import ee
  manifest_path = os.path.join(manifest_dir, MANIFEST)
  known = {}
  if os.path.exists(manifest_path):
    with open(manifest_path) as f:
      known = {job["description"]: ExportJob(**job) for job in json.load(f)}
  jobs = []
  for split, items in planned.items():
    for i in sorted({i for i, _ in items}):
      footprints = [f for j, f in items if j == i]
      for slug, image, resolution in zip(ds.slugs, composites[(split, i)],
                                         (ds.pixel_size_m * ds.scaling_factor, ds.pixel_size_m)):
        description = f"redes-{ds.dataset_name}-{split}-{i}-{slug}"
        job = known.get(description)
        if job is not None and ee.data.getTaskStatus(job.task_id)[0]["state"] not in FAILED_STATES:
          jobs.append(job)
          continue
        prefix = f"redes/{ds.dataset_name}/{split}/{i}_{slug}"
        task_id = _start(image, description, bucket, prefix, footprints, resolution)
        jobs.append(ExportJob(split, i, slug, f"gs://{bucket}/{prefix}.tif", task_id, description))
  write_atomically(manifest_path, json.dumps([dataclasses.asdict(j) for j in jobs], indent=2))
  return jobs


def wait(jobs, poll_seconds: float = 30.0, sleep=time.sleep) -> None:
  """Polls the tasks until all have completed; raises ExportError at the first FAILED or CANCELLED one."""
  # pylint: disable-next=import-outside-toplevel  (only Earth Engine runs need ee, which takes over a second to import)
  import ee
  pending = {job.task_id: job for job in jobs}
  while pending:
    for status in ee.data.getTaskStatus(list(pending)):
      job = pending[status["id"]]
      if status["state"] in FAILED_STATES:
        raise ExportError(f"Earth Engine export {job.task_id} ({job.description}) ended {status['state']}: "
                          f"{status.get('error_message', 'no message')}")
      if status["state"] == "COMPLETED":
        del pending[job.task_id]
    if pending:
      logging.info("waiting for %d Earth Engine export(s)", len(pending))
      sleep(poll_seconds)


def raster_sources(jobs, n_bands: int) -> dict:
  """{(split, polygon): (Landsat RasterSource, Sentinel-2 RasterSource)} of the exported reflectance rasters."""
  by_polygon = {}
  for job in jobs:
    by_polygon.setdefault((job.split, job.polygon), {})[sensors.sensor(job.slug).kind] = RasterSource(
        job.uri, tuple(range(1, n_bands + 1)), nodata=NODATA)
  return {key: (value["landsat"], value["sentinel2"]) for key, value in by_polygon.items()}
