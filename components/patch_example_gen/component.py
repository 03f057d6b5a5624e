"""PatchExampleGen: first node of the DAG. Builds LR/HR patch pairs and writes them as GZIP TFRecords of
tf.train.Example (see redes.features), one split per region of the source: train, eval, test."""
from tfx import types
from tfx.components.example_gen import utils
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts, standard_component_specs
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.patch_example_gen import executor
from redes.features import SOURCES, SPLITS

RUN_OVERRIDES = ("init_date", "end_date", "train_geojson", "eval_geojson", "test_geojson")


class PatchExampleGenSpec(ComponentSpec):
  PARAMETERS = {
      standard_component_specs.INPUT_CONFIG_KEY: ExecutionParameter(type=example_gen_pb2.Input),
      standard_component_specs.OUTPUT_CONFIG_KEY: ExecutionParameter(type=example_gen_pb2.Output),
      standard_component_specs.OUTPUT_DATA_FORMAT_KEY: ExecutionParameter(type=int),
      standard_component_specs.OUTPUT_FILE_FORMAT_KEY: ExecutionParameter(type=int),
      "source": ExecutionParameter(type=str),
      "bands": ExecutionParameter(type=str),
      "patch_size": ExecutionParameter(type=int),
      "scaling_factor": ExecutionParameter(type=int),
      "max_patches_per_split": ExecutionParameter(type=int),
      "data_dir": ExecutionParameter(type=str),
      "source_config": ExecutionParameter(type=str, optional=True),
      # Earth Engine settings a run may change (runtime parameters on Kubeflow); empty keeps source_config's.
      **{key: ExecutionParameter(type=str, optional=True) for key in RUN_OVERRIDES},
  }
  INPUTS = {}
  OUTPUTS = {standard_component_specs.EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples)}


class PatchExampleGen(base_beam_component.BaseBeamComponent):
  """Patch pairs from a source: 'demo' (the embedded Sentinel-2 scene with a Landsat-like degradation) or
  'earthengine' (Landsat and Sentinel-2 composites; source_config is the JSON of the Earth Engine settings, see
  redes.ingest.earthengine.dataset.EarthEngineDataset, plus optional "url" and "cache_dir") or 'rasters' (a user's
  Landsat and Sentinel-2 rasters; source_config is the JSON of redes.ingest.raster_dataset.RasterDataset's fields)."""

  SPEC_CLASS = PatchExampleGenSpec
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

  def __init__(self, source: str, bands: str, patch_size: int, scaling_factor: int,
               max_patches_per_split: int = 0, data_dir: str = "", source_config: str = "", **overrides):
    """overrides: RUN_OVERRIDES of the Earth Engine source_config (str or RuntimeParameter; empty: unchanged)."""
    if source not in SOURCES:
      raise ValueError(f"unknown source {source!r}; expected one of {list(SOURCES)}")
    input_config = example_gen_pb2.Input(
        splits=[example_gen_pb2.Input.Split(name=s, pattern=s) for s in SPLITS])
    spec = PatchExampleGenSpec(
        input_config=input_config, output_config=utils.make_default_output_config(input_config),
        output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
        output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP,
        source=source, bands=bands, patch_size=patch_size, scaling_factor=scaling_factor,
        max_patches_per_split=max_patches_per_split, data_dir=data_dir, source_config=source_config or None,
        examples=types.Channel(type=standard_artifacts.Examples), **overrides)
    super().__init__(spec=spec)
