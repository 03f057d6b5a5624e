"""Executor of PatchExampleGen: a Beam transform from a split name to tf.train.Example patch pairs.

- source=demo: windows of the embedded Sentinel-2 scene, the 30 m input degraded from the 10 m target.
- source=earthengine: footprints of the split's region file; before Beam runs, every footprint's Landsat and
  Sentinel-2 composites are fetched into a resumable cache (redes.ingest.earthengine.dataset) and counted; Beam then
  turns the kept pairs into examples.
- source=rasters: the same, with pairs read from a user's Landsat and Sentinel-2 rasters (redes.ingest.raster_dataset).
`dataset_params.json` beside the splits records the parameters, the counts and the fingerprint of every example
file (redes.example_files), which the readers check before they read.
"""
import functools
import json
import logging
import os
import pathlib
from typing import Any

import apache_beam as beam
import numpy as np
import tensorflow as tf
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.types import artifact_utils

from redes import features
from redes.example_files import DATASET_PARAMS_FILE, fingerprint
from redes.bands import parse_band_set
from redes.ingest import demo_data, pair_cache, raster_dataset
from redes.ingest.demo_pairs import SplitPairs, split_windows
from redes.ingest.earthengine import credentials, dataset



class _DemoPatchToExample(beam.DoFn):
  """Loads the demo scene once per worker and turns (y, x) windows of one split into examples."""

  def __init__(self, split: str, bands: tuple[str, ...], patch_size: int, scale: int, data_dir: str):
    self._args = (split, bands, patch_size, scale, data_dir)
    self._pairs = None
    self._kept = beam.metrics.Metrics.counter("redes", f"{split}_patches_kept")
    self._rejected = beam.metrics.Metrics.counter("redes", f"{split}_patches_rejected_nodata")

  def setup(self):
    split, bands, patch_size, scale, data_dir = self._args
    image, crs, transform = demo_data.sentinel2_reflectance(bands, pathlib.Path(data_dir) if data_dir else None)
    self._pairs = SplitPairs(image, crs, transform, split, patch_size, scale)

  def process(self, window):
    patch = self._pairs.patch(*window)
    if patch.valid_fraction < 1.0:
      self._rejected.inc()
      return
    self._kept.inc()
    yield features.make_example(patch.lr, patch.hr, self._args[1], patch.valid_fraction, patch.center_lon,
                                patch.center_lat, patch.patch_id)


def _cached_pair_to_example(footprint, cache_dir: str, split: str, bands):
  lr, hr = pair_cache.load_pair(cache_dir, footprint)
  valid = min(pair_cache.valid_fraction(lr), pair_cache.valid_fraction(hr))
  # Patches kept below a full valid fraction have their few no-data pixels filled with the patch's band means.
  lr = np.where(np.isfinite(lr), lr, np.nanmean(lr, axis=(0, 1)))
  hr = np.where(np.isfinite(hr), hr, np.nanmean(hr, axis=(0, 1)))
  lon, lat = footprint.center_lonlat()
  return features.make_example(lr, hr, bands, valid, lon, lat, f"{split}/{footprint.patch_id}")


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
@beam.typehints.with_output_types(tf.train.Example)
def _PatchesToExamples(pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str,
                       prepared: dict[str, pair_cache.CachedSplit] | None = None):
  """The examples of one split: from the pairs `prepared` in the cache (earthengine, rasters), else from windows of
  the demo scene."""
  bands = parse_band_set(exec_properties["bands"])
  patch_size, scale = exec_properties["patch_size"], exec_properties["scaling_factor"]
  if prepared is not None:
    split = prepared[split_pattern]
    return (pipeline
            | f"Footprints[{split_pattern}]" >> beam.Create(split.kept)
            | f"ToExample[{split_pattern}]" >> beam.Map(_cached_pair_to_example, split.cache_dir, split_pattern,
                                                          bands))
  data_dir = exec_properties.get("data_dir") or ""
  height, width = demo_data.sentinel2_shape(pathlib.Path(data_dir) if data_dir else None)
  windows = split_windows(height, width, split_pattern, patch_size, scale, exec_properties["max_patches_per_split"])
  logging.info("PatchExampleGen: split %s, %d patch windows of %d px", split_pattern, len(windows), patch_size)
  return (pipeline
          | f"Windows[{split_pattern}]" >> beam.Create(windows)
          | f"Reshuffle[{split_pattern}]" >> beam.Reshuffle()
          | f"ToExample[{split_pattern}]" >> beam.ParDo(
              _DemoPatchToExample(split_pattern, bands, patch_size, scale, data_dir)))


class Executor(BaseExampleGenExecutor):
  """For earthengine and rasters, the pairs are fetched and checked before Beam runs; the transform gets them as
  an argument (`prepared`)."""

  _dataset_params: dict | None = None   # the source's dataset parameters (earthengine, rasters)
  _prepared: dict | None = None         # {split: CachedSplit}

  def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
    return functools.partial(_PatchesToExamples, prepared=self._prepared)

  def GenerateExamplesByBeam(self, pipeline, exec_properties):
    if exec_properties["source"] == "earthengine":
      self._dataset_params, self._prepared = self._download(exec_properties)
    elif exec_properties["source"] == "rasters":
      self._dataset_params, self._prepared = self._read_rasters(exec_properties)
    return super().GenerateExamplesByBeam(pipeline, exec_properties)

  def Do(self, input_dict, output_dict, exec_properties):
    self._dataset_params, self._prepared = None, None
    super().Do(input_dict, output_dict, exec_properties)
    examples = artifact_utils.get_single_instance(output_dict["examples"])
    params = {"source": exec_properties["source"], "bands": list(parse_band_set(exec_properties["bands"])),
              "patch_size": exec_properties["patch_size"], "scaling_factor": exec_properties["scaling_factor"],
              **(self._dataset_params or {})}
    if self._prepared:
      params["counts"] = {split: cached.counts() for split, cached in self._prepared.items()}
    params["files"] = fingerprint(examples.uri)
    with tf.io.gfile.GFile(os.path.join(examples.uri, DATASET_PARAMS_FILE), "w") as f:
      f.write(json.dumps(params, indent=2))

  @staticmethod
  def _download(exec_properties):
    config = json.loads(exec_properties.get("source_config") or "{}")
    config.update({key: exec_properties[key] for key in ("init_date", "end_date") if exec_properties.get(key)})
    config["geojsons"] = {split: exec_properties.get(f"{split}_geojson") or path
                          for split, path in config.get("geojsons", {}).items()}
    ds = dataset.from_source_config(config, exec_properties["bands"], exec_properties["patch_size"],
                                    exec_properties["scaling_factor"])
    planned = dataset.plan(ds)               # every check before any request
    credentials.initialize(url=config.get("url"))
    # pylint: disable-next=import-outside-toplevel  (only Earth Engine runs need ee, which takes over a second)
    import ee
    ee.data.setMaxRetries(0)                 # transfer.with_retries does the retrying
    cache_root = config.get("cache_dir") or str(demo_data.data_dir() / "earthengine")
    return ds.params(), dataset.download(ds, planned, cache_root)

  @staticmethod
  def _read_rasters(exec_properties):
    config = json.loads(exec_properties.get("source_config") or "{}")
    ds = raster_dataset.from_source_config(config, exec_properties["patch_size"], exec_properties["scaling_factor"])
    cache_root = config.get("cache_dir") or str(demo_data.data_dir() / "rasters")
    return ds.params(), raster_dataset.cache_pairs(ds, raster_dataset.plan(ds), cache_root)
