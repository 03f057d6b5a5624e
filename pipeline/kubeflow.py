"""Kubeflow compilation of create_pipeline's DAG, for kubeflow_runner.py.

Writes two files from one compilation (KubeflowV2DagRunner, pipeline spec schema 2.1):
- `<name>.yaml` for Kubeflow Pipelines: the PipelineSpec, its runtime parameters with their defaults (what the
  KFP UI offers to change per run), followed by a second YAML document, the Kubernetes platform spec that kfp.Client
  and the KFP UI merge in: node selector and tolerations for the GPU steps, and the Earth Engine credentials as
  environment variables from a Kubernetes Secret (only the Secret's name is in the spec, never a value);
- `<name>_job.json` for Vertex AI: a PipelineJob (the same PipelineSpec and a runtimeConfig with the defaults);
  Vertex AI takes no Kubernetes settings, so the platform spec is left out there.
"""
import dataclasses
import json
import os

import yaml

from pipeline.configs import RunConfig
from pipeline.pipeline import RUNTIME_PARAMETERS, create_pipeline
from redes.atomic import write_atomically

GPU_STEPS = ("Trainer", "TileGen")
CREDENTIAL_STEPS = ("PatchExampleGen", "TileGen")
# Secret key -> environment variable read by redes.earthengine.credentials
SECRET_KEYS = {"ee-private-key": "EE_PRIVATE_KEY", "project-id": "PROJECT_ID"}


@dataclasses.dataclass(frozen=True)
class Cluster:
  """Where and how the compiled pipeline runs (the flags of kubeflow_runner.py that are not run settings)."""
  pipeline_root: str
  image: str
  trainer_gpus: int = 1
  tilegen_gpus: int = 1
  gpu_node_selector: dict = dataclasses.field(default_factory=dict)     # label -> value
  gpu_tolerations: tuple = ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},)
  credentials_secret: str = ""                                          # Kubernetes Secret with SECRET_KEYS
  beam_args: tuple = ("--direct_num_workers=0",)


def runtime_defaults(config: RunConfig) -> dict:
  """The default value of every runtime parameter, from the run settings."""
  ee, tiles, training = config.earthengine, config.tiles, config.training
  geojsons = dict(zip(("train_geojson", "eval_geojson", "test_geojson"), ee.geojsons or ("", "", "")))
  return {"epochs": training.epochs, "batch_size": training.batch_size, "min_z": tiles.min_z, "max_z": tiles.max_z,
          "start_year": tiles.start_year, "stop_year": tiles.stop_year, "init_date": ee.init_date,
          "end_date": ee.end_date, **geojsons}


def gpu_resources(count: int):
  """A KFP v2 container resource request for `count` NVIDIA GPUs."""
  from kfp.pipeline_spec import pipeline_spec_pb2  # pylint: disable=import-outside-toplevel
  resource_spec = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec
  return resource_spec(accelerator=resource_spec.AcceleratorConfig(
      type="nvidia.com/gpu", count=count, resource_type="nvidia.com/gpu", resource_count=str(count)))


def _platform_spec(cluster: Cluster, gpu_steps) -> dict:
  executors = {}
  for step in gpu_steps:
    settings = executors.setdefault(f"{step}_executor", {})
    if cluster.gpu_node_selector:
      settings["nodeSelector"] = {"labels": dict(cluster.gpu_node_selector)}
    if cluster.gpu_tolerations:
      settings["tolerations"] = [dict(t) for t in cluster.gpu_tolerations]
  if cluster.credentials_secret:
    for step in CREDENTIAL_STEPS:
      executors.setdefault(f"{step}_executor", {})["secretAsEnv"] = [{
          "secretName": cluster.credentials_secret,
          "secretNameParameter": {"runtimeValue": {"constant": cluster.credentials_secret}},
          "keyToEnv": [{"secretKey": key, "envVar": env} for key, env in SECRET_KEYS.items()]}]
  return {"platforms": {"kubernetes": {"deploymentSpec": {"executors": executors}}}}


def compile_pipeline(config: RunConfig, cluster: Cluster, output_dir: str, name: str) -> tuple[str, str]:
  """Writes <output_dir>/<name>.yaml (KFP) and <output_dir>/<name>_job.json (Vertex AI); returns both paths."""
  from tfx import v1 as tfx  # pylint: disable=import-outside-toplevel  (slow: ~30 s)
  defaults = runtime_defaults(config)
  parameters = {key: tfx.dsl.experimental.RuntimeParameter(name=key, ptype=type(defaults[key]), default=defaults[key])
                for key in RUNTIME_PARAMETERS}
  dag = create_pipeline(config, cluster.pipeline_root, os.path.join(cluster.pipeline_root, "serving"),
                        beam_pipeline_args=list(cluster.beam_args), runtime_parameters=parameters)
  gpus = {step: count for step, count in zip(GPU_STEPS, (cluster.trainer_gpus, cluster.tilegen_gpus)) if count}
  for component in dag.components:
    if component.id in gpus:
      component.with_platform_config(gpu_resources(gpus[component.id]))
  runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
      config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=cluster.image,
                                                                     use_pipeline_spec_2_1=True),
      output_dir=output_dir, output_filename=f"{name}.yaml")
  job = runner.run(dag, parameter_values=defaults, write_out=False)
  spec = job["pipelineSpec"]
  for key, value in defaults.items():   # TFX drops RuntimeParameter defaults; the KFP UI shows these
    spec["root"]["inputDefinitions"]["parameters"][key].update(defaultValue=value, isOptional=True)
  job["runtimeConfig"]["gcsOutputDirectory"] = cluster.pipeline_root
  return (write_atomically(os.path.join(output_dir, f"{name}.yaml"),
                           yaml.safe_dump_all([spec, _platform_spec(cluster, gpus)], sort_keys=True)),
          write_atomically(os.path.join(output_dir, f"{name}_job.json"), json.dumps(job, indent=2, sort_keys=True)))
