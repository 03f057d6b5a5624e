"""create_pipeline: the one Redes DAG, shared by the local runner and the Kubeflow runner.

PatchExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator -> DataGate -> Trainer -> ImageEvaluator
(candidate vs BicubicBaseline and the last pushed model on the test split) -> ComparisonFigure (its PSNRs) and
RunReport -> Pusher (only if blessed) -> TileGen.

The last blessed model is the newest one the Pusher wrote to the serving directory: the Trainer starts from it
with warm start, and the ImageEvaluator compares the candidate with it. Reading that directory when the component
runs, rather than resolving MLMD with a Resolver node, works on every orchestrator (open-source Kubeflow Pipelines
executes no resolver) and keeps a repeated run fully cached.
"""
import dataclasses
import json
import os

from pipeline.configs import PIPELINE_NAME, RunConfig, runtime_defaults
from redes.bands import BAND_SETS, parse_band_set
from redes.evaluation.record import BlessingRule
from redes.features import SPLITS

# Beam in the component's own process (locally, and in each Kubeflow task unless --beam-arg says otherwise), with no
# runner discovery: DirectRunner would first try to download the Prism runner, which fails offline and in pods.
BEAM_ARGS = ["--runner=FnApiRunner", "--direct_num_workers=1"]
# TFX's Beam executors (tfx.utils.dependency_utils) package the installed TFX as an sdist for the workers, into a
# temporary folder they never remove (about 42 MB and seconds per Beam component and run), unless the Beam arguments
# name the workers' dependencies. Local runners use none, so for them the arguments name Redes' setup.py (in the
# working directory: the repository, or the image's WORKDIR), which they ignore.
_DEPENDENCY_FLAGS = ("--extra_package", "--setup_file", "--requirements_file", "--worker_harness_container_image",
                     "--sdk_container_image")
_LOCAL_RUNNERS = ("", "DirectRunner", "FnApiRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner")
LOCAL_DEPENDENCIES = "--setup_file=./setup.py"


def component_beam_args(args) -> list[str]:
  """The Beam arguments of the pipeline's Beam components: `args` (default BEAM_ARGS), with LOCAL_DEPENDENCIES added
  for a local runner that names no dependencies."""
  args = list(args or BEAM_ARGS)
  runner = next((a.split("=", 1)[1] for a in reversed(args) if a.startswith("--runner=")), "")
  if runner in _LOCAL_RUNNERS and not any(a.startswith(_DEPENDENCY_FLAGS) for a in args):
    args.append(LOCAL_DEPENDENCIES)
  return args


def source_config(config: RunConfig) -> str:
  """PatchExampleGen's source_config: the Earth Engine or rasters settings as JSON (empty for the demo source)."""
  if config.data.source == "rasters":
    r, bands = config.rasters, parse_band_set(config.data.bands)

    def indexes(per_band):   # band indexes are given for red, green, blue, nir; keep those of the chosen bands
      return [per_band[BAND_SETS["rgbn"].index(b)] for b in bands]
    return json.dumps({
        "landsat": {"path": r.landsat_raster, "bands": indexes(r.landsat_band_indexes),
                    "dn_scale": r.landsat_scale, "dn_offset": r.landsat_offset},
        "sentinel2": {"path": r.sentinel2_raster, "bands": indexes(r.sentinel2_band_indexes),
                      "dn_scale": r.sentinel2_scale, "dn_offset": r.sentinel2_offset},
        "sample_size": r.raster_sample_size, "min_valid_fraction": config.earthengine.min_valid_fraction,
        "max_pair_shift": config.earthengine.max_pair_shift,
        "concurrency": config.earthengine.concurrency, "cache_dir": config.earthengine.cache_dir or None})
  if config.data.source != "earthengine":
    return ""
  ee = config.earthengine
  return json.dumps({"geojsons": dict(zip(SPLITS, ee.geojsons)),
                     "dataset_name": ee.dataset_name, "slugs": list(ee.slugs), "init_date": ee.init_date,
                     "end_date": ee.end_date, "pixel_size_m": ee.scale, "sample_size": ee.sample_size,
                     "composite": ee.composite, "min_valid_fraction": ee.min_valid_fraction,
                     "max_pair_shift": ee.max_pair_shift,
                     "concurrency": ee.concurrency, "mode": ee.mode, "bucket": ee.bucket,
                     "url": ee.ee_url or None, "cache_dir": ee.cache_dir or None})


def create_pipeline(config: RunConfig, pipeline_root: str, serving_dir: str, metadata_connection_config=None,
                    beam_pipeline_args=None, pipeline_name: str = PIPELINE_NAME, runtime_parameters=None):
  """Builds the DAG (orchestrator resources, such as GPUs on Kubeflow, are added by pipeline.kubeflow).

  runtime_parameters: {name in pipeline.configs.RUNTIME_PARAMETERS: tfx RuntimeParameter} that replace the
  config's values (Kubeflow runs set them per run); the local runner passes none."""
  # pylint: disable=import-outside-toplevel  (TFX takes ~30 s to load; the flag checks import this module)
  from tfx import v1 as tfx
  from components.bicubic_baseline.component import BicubicBaseline
  from components.comparison_figure.component import ComparisonFigure
  from components.data_gate.component import DataGate
  from components.image_evaluator.component import ImageEvaluator
  from components.patch_example_gen.component import (
      RUN_OVERRIDES, PatchExampleGen)
  from components.run_parameters.component import (
      RUN_PARAMETERS, RunParameters)
  from components.run_report.component import RunReport
  from components.tile_gen.component import TileGen

  data, training, evaluation, tiles = config.data, config.training, config.evaluation, config.tiles
  runtime, defaults = dict(runtime_parameters or {}), runtime_defaults(config)

  def setting(name: str):
    return runtime.get(name, defaults[name])
  overrides = {name: runtime[name] for name in RUN_OVERRIDES if name in runtime}
  example_gen = PatchExampleGen(source=data.source, bands=data.bands, patch_size=data.patch_size,
                                scaling_factor=data.scaling_factor,
                                max_patches_per_split=data.max_patches_per_split, data_dir=data.data_dir,
                                source_config=source_config(config), **overrides)
  statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
  schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"])
  example_validator = tfx.components.ExampleValidator(statistics=statistics_gen.outputs["statistics"],
                                                      schema=schema_gen.outputs["schema"])
  data_gate = DataGate(anomalies=example_validator.outputs["anomalies"],
                       stop_on_anomalies=evaluation.stop_on_anomalies)
  run_parameters = RunParameters(**{name: setting(name) for name in RUN_PARAMETERS})
  custom_config = {**{k: v for k, v in dataclasses.asdict(training).items() if k not in RUN_PARAMETERS},
                   "source": data.source, "bands": data.bands, "patch_size": data.patch_size,
                   "scaling_factor": data.scaling_factor,
                   "serving_dir": serving_dir if training.warm_start else ""}
  trainer = tfx.components.Trainer(run_fn="models.trainer.run_fn", examples=example_gen.outputs["examples"],
                                   schema=schema_gen.outputs["schema"], custom_config=custom_config,
                                   hyperparameters=run_parameters.outputs["hyperparameters"])
  trainer.add_upstream_node(data_gate)
  baseline = BicubicBaseline(bands=data.bands, patch_size=data.patch_size, scaling_factor=data.scaling_factor)
  evaluator = ImageEvaluator(examples=example_gen.outputs["examples"], model=trainer.outputs["model"],
                             bicubic_model=baseline.outputs["model"], serving_dir=serving_dir,
                             rule=BlessingRule(evaluation.bless_margin_db, evaluation.bless_tolerance_db,
                                               evaluation.robustness_tolerance_db, evaluation.texture_ceiling),
                             batch_size=evaluation.eval_batch_size)
  comparison = ComparisonFigure(examples=example_gen.outputs["examples"], model=trainer.outputs["model"],
                                baseline_model=baseline.outputs["model"], evaluation=evaluator.outputs["evaluation"])
  report = RunReport(evaluation=evaluator.outputs["evaluation"], blessing=evaluator.outputs["blessing"],
                     figure=comparison.outputs["figure"])
  pusher = tfx.components.Pusher(
      model=trainer.outputs["model"], model_blessing=evaluator.outputs["blessing"],
      push_destination=tfx.proto.PushDestination(
          filesystem=tfx.proto.PushDestination.Filesystem(base_directory=serving_dir)))
  tile_gen = TileGen(pushed_model=pusher.outputs["pushed_model"], frames=json.dumps(dict(tiles.frames)),
                     geometry=tiles.geometry, region_name=tiles.region_name,
                     min_z=setting("min_z"), max_z=setting("max_z"),
                     tile_format=tiles.tile_format, frame_delay_ms=tiles.frame_delay_ms, data_dir=data.data_dir,
                     instrument=tiles.instrument, start_year=setting("start_year"), stop_year=setting("stop_year"),
                     ee_url=config.earthengine.ee_url, uncertainty=tiles.uncertainty, metrics=report.outputs["metrics"],
                     beam_args=json.dumps(list(beam_pipeline_args or [])))   # empty: publishing's own default
  components = [example_gen, statistics_gen, schema_gen, example_validator, data_gate, run_parameters, trainer,
                baseline, evaluator, comparison, report, pusher, tile_gen]
  return tfx.dsl.Pipeline(pipeline_name=pipeline_name, pipeline_root=pipeline_root, components=components,
                          enable_cache=True, metadata_connection_config=metadata_connection_config,
                          beam_pipeline_args=component_beam_args(beam_pipeline_args))


def output_paths(output_dir: str) -> dict[str, str]:
  """Where a local run keeps its artifacts, MLMD store, pushed models and summary."""
  return {"pipeline_root": os.path.join(output_dir, "pipeline_root"),
          "metadata": os.path.join(output_dir, "metadata.sqlite"),
          "serving": os.path.join(output_dir, "serving"),
          "summary": os.path.join(output_dir, "summary.json")}
