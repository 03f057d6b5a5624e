"""Kubeflow compilation of create_pipeline's DAG, for kubeflow_runner.py.

Writes two files from one compilation (KubeflowV2DagRunner, pipeline spec schema 2.1):
- `<name>.yaml` for open-source Kubeflow Pipelines 2.x: the PipelineSpec (its defaultPipelineRoot is the root the
  KFP UI offers for a run; runs started by kubeflow_runner.py pass it explicitly), runtime parameters with their
  defaults, GPUs as `nvidia.com/gpu`, followed by a second YAML document, the Kubernetes platform spec that
  kfp.Client and the KFP UI merge in: node selector and tolerations for the GPU steps, and Earth Engine
  credentials as environment variables from a Kubernetes Secret (only the Secret's name, never a value);
- `<name>_job.json` for Vertex AI: a PipelineJob with the same spec, GPUs by Vertex AI accelerator name, and a
  runtimeConfig with the defaults (Vertex AI takes no Kubernetes settings).

Every task is a container executor running pipeline.container_entrypoint (the open-source KFP backend executes
container and importer executors only); the last blessed model reaches the Trainer (warm start) and the
ImageEvaluator through the serving directory under the pipeline root, not through a Resolver. Files the pods read
are gs:// paths or files of the image (regions/ under its working directory, see for_cluster).
"""
import copy
import dataclasses
import json
import os

import yaml
from kfp.pipeline_spec import pipeline_spec_pb2

from pipeline.configs import RUNTIME_PARAMETERS, RunConfig, runtime_defaults
from pipeline.pipeline import create_pipeline
from redes.atomic import write_atomically

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE_FOLDERS = ("regions",)           # data folders the Dockerfile copies beside the code, under its WORKDIR
ENTRYPOINT = ["python", "-m", "pipeline.container_entrypoint"]
GPU_STEPS = ("Trainer", "TileGen")
CREDENTIAL_STEPS = ("PatchExampleGen", "TileGen")
# Secret key -> environment variable read by redes.ingest.earthengine.credentials
SECRET_KEYS = {"ee-private-key": "EE_PRIVATE_KEY", "project-id": "PROJECT_ID"}
KUBERNETES_GPU = "nvidia.com/gpu"      # the device plugin's resource name, what open-source KFP requests
DEFAULT_VERTEX_ACCELERATOR = "NVIDIA_L4"


@dataclasses.dataclass(frozen=True)
class Cluster:
  """Where and how the compiled pipeline runs (the flags of kubeflow_runner.py that are not run settings)."""
  pipeline_root: str
  image: str
  trainer_gpus: int = 1
  tilegen_gpus: int = 1
  vertex_accelerator: str = DEFAULT_VERTEX_ACCELERATOR
  gpu_node_selector: dict = dataclasses.field(default_factory=dict)     # label -> value
  gpu_tolerations: tuple = ({"key": KUBERNETES_GPU, "operator": "Exists", "effect": "NoSchedule"},)
  credentials_secret: str = ""                                          # Kubernetes Secret with SECRET_KEYS
  beam_args: tuple = ()                                                 # empty: Beam in the task's process

  @property
  def serving_dir(self) -> str:
    """Where the Pusher writes blessed models, and where warm start and evaluation find the last one."""
    return f"{self.pipeline_root.rstrip('/')}/serving"


def vertex_accelerators() -> list[str]:
  """The GPU names Vertex AI accepts (google.cloud.aiplatform_v1 AcceleratorType)."""
  # pylint: disable-next=import-outside-toplevel  (aiplatform takes ~3 s to import; only this check needs it)
  from google.cloud.aiplatform_v1.types import AcceleratorType
  return [name for name in AcceleratorType.__members__ if name.startswith("NVIDIA_")]


def _pod_path(path: str, flag: str) -> str:
  """`path` as a pod reads it: gs:// paths as they are, a file of an image folder relative to the image's working
  directory; ValueError (one line) for a file that exists on this machine only."""
  if not path or path.startswith("gs://"):
    return path
  real = os.path.realpath(path)
  for folder in IMAGE_FOLDERS:
    if real.startswith(os.path.join(REPO_ROOT, folder) + os.sep) and os.path.isfile(real):
      return os.path.relpath(real, REPO_ROOT)
  raise ValueError(f"argument {flag}: {path!r} is a file of this machine, which the pods cannot read; expected a "
                   f"gs:// path or a file under {', '.join(f + '/' for f in IMAGE_FOLDERS)} (copied into the image)")


def for_cluster(config: RunConfig) -> RunConfig:
  """The run settings with every file path as the pods read it (see _pod_path); ValueError names a flag whose
  file they cannot read. The demo imagery is in the image ($REDES_DATA_DIR), so --data-dir is refused."""
  if config.data.data_dir:
    raise ValueError(f"argument --data-dir: {config.data.data_dir!r} is a folder of this machine; the image carries "
                     "the demo imagery ($REDES_DATA_DIR), leave --data-dir out for a cluster")
  ee, tiles, rasters, training = config.earthengine, config.tiles, config.rasters, config.training
  return dataclasses.replace(
      config,
      earthengine=dataclasses.replace(ee, geojsons=tuple(_pod_path(p, "--geojsons") for p in ee.geojsons)),
      tiles=dataclasses.replace(tiles, geometry=_pod_path(tiles.geometry, "--geometry"),
                                frames=tuple((year, _pod_path(p, "--frames")) for year, p in tiles.frames)),
      rasters=dataclasses.replace(rasters, landsat_raster=_pod_path(rasters.landsat_raster, "--landsat-raster"),
                                  sentinel2_raster=_pod_path(rasters.sentinel2_raster, "--sentinel2-raster")),
      training=dataclasses.replace(training, vgg_weights=_pod_path(training.vgg_weights, "--vgg-weights"),
                                   init_weights=_pod_path(training.init_weights, "--init-weights")))


def gpu_resources(count: int):
  """A KFP v2 container resource request for `count` GPUs of the Kubernetes device plugin."""
  resource_spec = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec
  return resource_spec(accelerator=resource_spec.AcceleratorConfig(
      type=KUBERNETES_GPU, count=count, resource_type=KUBERNETES_GPU, resource_count=str(count)))


def _for_vertex(spec: dict, accelerator: str) -> dict:
  """The spec with its GPU requests named as Vertex AI names accelerators."""
  spec = copy.deepcopy(spec)
  for executor in spec["deploymentSpec"]["executors"].values():
    request = executor.get("container", {}).get("resources", {}).get("accelerator")
    if request:
      request.update(type=accelerator, resourceType=accelerator)
  return spec


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
  """Writes <output_dir>/<name>.yaml (KFP) and <output_dir>/<name>_job.json (Vertex AI); returns both paths.
  config: settings whose paths the pods can read (for_cluster)."""
  # pylint: disable-next=import-outside-toplevel  (TFX takes ~30 s to load; the flags are checked first)
  from tfx import v1 as tfx
  defaults = runtime_defaults(config)
  parameters = {key: tfx.dsl.experimental.RuntimeParameter(name=key, ptype=type(defaults[key]), default=defaults[key])
                for key in RUNTIME_PARAMETERS}
  dag = create_pipeline(config, cluster.pipeline_root, cluster.serving_dir,
                        beam_pipeline_args=list(cluster.beam_args) or None, runtime_parameters=parameters)
  gpus = {step: count for step, count in zip(GPU_STEPS, (cluster.trainer_gpus, cluster.tilegen_gpus)) if count}
  for component in dag.components:
    if component.id in gpus:
      component.with_platform_config(gpu_resources(gpus[component.id]))
  runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
      config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
          default_image=cluster.image, default_commands=ENTRYPOINT, use_pipeline_spec_2_1=True),
      output_dir=output_dir, output_filename=f"{name}.yaml")
  job = runner.run(dag, parameter_values=defaults, write_out=False)
  spec = job["pipelineSpec"]
  for key, value in defaults.items():   # TFX drops RuntimeParameter defaults; the KFP UI shows these
    spec["root"]["inputDefinitions"]["parameters"][key].update(defaultValue=value, isOptional=True)
  spec["defaultPipelineRoot"] = cluster.pipeline_root
  job["pipelineSpec"] = _for_vertex(spec, cluster.vertex_accelerator)
  job["runtimeConfig"]["gcsOutputDirectory"] = cluster.pipeline_root
  return (write_atomically(os.path.join(output_dir, f"{name}.yaml"),
                           yaml.safe_dump_all([spec, _platform_spec(cluster, gpus)], sort_keys=True)),
          write_atomically(os.path.join(output_dir, f"{name}_job.json"), json.dumps(job, indent=2, sort_keys=True)))
