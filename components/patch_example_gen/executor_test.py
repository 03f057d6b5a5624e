"""PatchExampleGen's executor with source=earthengine, the real ee client talking to the loopback fake."""
import json
import os

import tensorflow as tf
from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
from tfx.types import standard_artifacts

from components.patch_example_gen.component import PatchExampleGen
from components.patch_example_gen.executor import Executor
from redes.example_files import DATASET_PARAMS_FILE
from models.input_pipeline import count_records
from pipeline.configs import DataConfig, EarthEngineConfig, RasterConfig, RunConfig
from pipeline.pipeline import component_beam_args, source_config
from redes import features
from redes.ingest.earthengine.dataset_test import _region_files
from redes.ingest.raster_pairs_test import scene  # noqa: F401  (pytest fixture)


def _generate(tmp_path, config: RunConfig) -> str:
  """Runs the executor as TFX would, in this process, with the source settings create_pipeline gives it; returns
  the Examples URI."""
  gen = PatchExampleGen(source=config.data.source, bands=config.data.bands, patch_size=96, scaling_factor=3,
                        source_config=source_config(config))
  examples = standard_artifacts.Examples()
  examples.uri = str(tmp_path / "examples")
  context = BaseBeamExecutor.Context(beam_pipeline_args=component_beam_args(None), tmp_dir=str(tmp_path / "tmp"))
  Executor(context).Do({}, {"examples": [examples]}, dict(gen.exec_properties))
  return examples.uri


def _run(earthengine, tmp_path):
  regions = _region_files(tmp_path)
  return _generate(tmp_path, RunConfig(
      data=DataConfig(source="earthengine", bands="rgbn"),
      earthengine=EarthEngineConfig(geojsons=tuple(regions[s] for s in features.SPLITS), sample_size=3, concurrency=4,
                                    ee_url=earthengine.url, cache_dir=str(tmp_path / "cache"))))


def test_earthengine_examples_and_dataset_params(earthengine, tmp_path):
  uri = _run(earthengine, tmp_path)
  with open(os.path.join(uri, DATASET_PARAMS_FILE)) as f:
    params = json.load(f)
  assert params["source"] == "earthengine" and params["slugs"] == ["landsat8", "sentinel2"]
  assert params["bands"] == ["red", "green", "blue", "nir"] and params["patch_size"] == 96
  assert {s: (c["footprints"], c["examples"]) for s, c in params["counts"].items()} == {
      s: (3, 3) for s in ("train", "eval", "test")}
  assert "private_key" not in json.dumps(params)
  spec = features.image_feature_spec(96, 3, 4)
  ids = set()
  for split in ("train", "eval", "test"):
    pattern = os.path.join(uri, f"Split-{split}", "*.gz")
    assert count_records(pattern) == 3
    for record in tf.data.TFRecordDataset(tf.io.gfile.glob(pattern), compression_type="GZIP"):
      example = tf.train.Example.FromString(record.numpy())
      parsed = tf.io.parse_single_example(record, spec)
      assert parsed[features.LR_KEY].shape == (32, 32, 4) and parsed[features.HR_KEY].shape == (96, 96, 4)
      ids.add(example.features.feature[features.PATCH_ID_KEY].bytes_list.value[0].decode())
      lon = example.features.feature["center_lon"].float_list.value[0]
      assert -75.71 < lon < -75.57
  assert len(ids) == 9 and all(i.split("/")[1].startswith("32618_") for i in ids)

  requests = len(earthengine.calls("image:computePixels"))
  _run(earthengine, tmp_path)           # a re-run finds every patch cached and asks for nothing
  assert len(earthengine.calls("image:computePixels")) == requests == 18


def test_rasters_source_splits_footprint_rows(scene, tmp_path):
  from redes.ingest import raster_dataset
  rasters = RasterConfig(landsat_raster=scene["landsat"].path, sentinel2_raster=scene["sentinel2"].path,
                         landsat_band_indexes=(1, 2, 3, 4), sentinel2_band_indexes=(1, 2, 3, 4))
  config = RunConfig(data=DataConfig(source="rasters"), rasters=rasters,
                     earthengine=EarthEngineConfig(cache_dir=str(tmp_path / "cache")))
  planned = raster_dataset.plan(raster_dataset.from_source_config(json.loads(source_config(config)), 96, 3))
  rows = {s: sorted({f.top for f in items}, reverse=True) for s, items in planned.items()}
  assert max(rows["eval"]) < min(rows["train"]) and max(rows["test"]) < min(rows["eval"])
  uri = _generate(tmp_path, config)
  with open(os.path.join(uri, DATASET_PARAMS_FILE)) as f:
    counts = json.load(f)["counts"]
  assert sum(c["footprints"] for c in counts.values()) == 30
  for split, items in planned.items():
    assert counts[split]["examples"] == len(items) > 0
    assert count_records(os.path.join(uri, f"Split-{split}", "*.gz")) == len(items)
    shifts = counts[split]["shift_lr_pixels"]                     # the Landsat raster is the crop's degradation
    assert shifts["count"] == len(items) and shifts["max"] <= 0.1
    assert counts[split]["rejected"] == {"valid_fraction_below_threshold": 0, "shift_above_threshold": 0}
