"""Executor of PatchExampleGen: a Beam transform from a split name to tf.train.Example patch pairs."""
import logging
import pathlib
from typing import Any

import apache_beam as beam
import tensorflow as tf
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor

from redes import demo_data, features
from redes.bands import parse_band_set
from redes.demo_pairs import SplitPairs, split_windows


class _DemoPatchToExample(beam.DoFn):
  """Loads the demo scene once per worker and turns (row, col) windows of one split into examples."""

  def __init__(self, split: str, bands: tuple[str, ...], kernel_size: int, scale: int, data_dir: str):
    self._args = (split, bands, kernel_size, scale, data_dir)
    self._pairs = None
    self._kept = beam.metrics.Metrics.counter("redes", f"{split}_patches_kept")
    self._rejected = beam.metrics.Metrics.counter("redes", f"{split}_patches_rejected_nodata")

  def setup(self):
    split, bands, kernel_size, scale, data_dir = self._args
    image, crs, transform = demo_data.sentinel2_reflectance(bands, pathlib.Path(data_dir) if data_dir else None)
    self._pairs = SplitPairs(image, crs, transform, split, kernel_size, scale)

  def process(self, window):
    patch = self._pairs.patch(*window)
    if patch.valid_fraction < 1.0:
      self._rejected.inc()
      return
    self._kept.inc()
    yield features.make_example(patch.lr, patch.hr, self._args[1], patch.valid_fraction, patch.center_lon,
                                patch.center_lat, patch.patch_id)


def _windows(split: str, kernel_size: int, scale: int, max_patches: int, data_dir: str):
  height, width = demo_data.sentinel2_shape(pathlib.Path(data_dir) if data_dir else None)
  windows = split_windows(height, width, split, kernel_size, scale, max_patches)
  logging.info("PatchExampleGen: split %s, %d patch windows of %d px", split, len(windows), kernel_size)
  return windows


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
@beam.typehints.with_output_types(tf.train.Example)
def _PatchesToExamples(pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str):
  bands = parse_band_set(exec_properties["bands"])
  kernel_size, scale = exec_properties["kernel_size"], exec_properties["scaling_factor"]
  data_dir = exec_properties.get("data_dir") or ""
  windows = _windows(split_pattern, kernel_size, scale, exec_properties["max_patches_per_split"], data_dir)
  return (pipeline
          | f"Windows[{split_pattern}]" >> beam.Create(windows)
          | f"Reshuffle[{split_pattern}]" >> beam.Reshuffle()
          | f"ToExample[{split_pattern}]" >> beam.ParDo(
              _DemoPatchToExample(split_pattern, bands, kernel_size, scale, data_dir)))


class Executor(BaseExampleGenExecutor):

  def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
    return _PatchesToExamples
