"""Compiles the Redes DAG for Kubeflow Pipelines v2 (and Vertex AI) and, when asked, starts or schedules it.

    python kubeflow_runner.py --pipeline-root gs://BUCKET/redes --image REGISTRY/redes:TAG [run flags]
        [--submit (--host https://KFP_HOST | --vertex --project P --region R)
         [--schedule "0 3 * * 1" [--schedule-timezone Europe/Madrid]]]

Writes <output-dir>/redes_pipeline.yaml (open-source Kubeflow Pipelines 2.x; upload it in the KFP UI) and
<output-dir>/redes_pipeline_job.json (a Vertex AI PipelineJob); see pipeline/kubeflow.py. The run flags are those of
local_runner.py (see --help): they set the compiled defaults, and the runtime parameters (epochs, batch_size, min_z,
max_z, start_year, stop_year, init_date, end_date, train/eval/test_geojson) can be changed per run in the KFP UI.
Every flag is checked, and the KFP API reached, before anything is compiled or uploaded.
"""
import argparse
import re
import sys
import time

from pipeline import flags, schedule, submit
from pipeline.configs import runtime_defaults
from pipeline.kubeflow import (DEFAULT_VERTEX_ACCELERATOR, Cluster, compile_pipeline, for_cluster,
                              vertex_accelerators)

SPEC_NAME = "redes_pipeline"
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")     # Cloud Storage bucket names


def pipeline_root(text: str) -> str:
  """gs://BUCKET[/PATH]: the one scheme TFX, TensorFlow and Beam all write (TensorFlow 2.21 has no s3 file system)."""
  scheme, _, rest = text.partition("://")
  bucket = rest.split("/")[0]
  if scheme in ("s3", "minio"):
    raise argparse.ArgumentTypeError(
        f"{text!r}: TensorFlow 2.21 has no {scheme}:// file system, so TFX components cannot read or write there; "
        "expected gs://BUCKET[/PATH] (on open-source Kubeflow Pipelines too: runs are given it as their root)")
  if scheme != "gs" or not _BUCKET.match(bucket) or ".." in bucket:
    raise argparse.ArgumentTypeError(f"{text!r} is not a Cloud Storage path; expected gs://BUCKET[/PATH] with a "
                                     "bucket name of 3-222 characters a-z, 0-9, '.', '_', '-'")
  return text.rstrip("/")


def _matching(pattern: str, expected: str):
  def parse(text: str) -> str:
    if not re.match(pattern, text):
      raise argparse.ArgumentTypeError(f"{text!r} is not {expected}")
    return text
  return parse


image_reference = _matching(r"^[a-z0-9][A-Za-z0-9._/:@-]*[A-Za-z0-9_]$", "a container image reference; expected "
                            "REGISTRY/NAME:TAG of the image built from this repository's Dockerfile")
api_host = _matching(r"^https?://[^\s/]+", "an http(s) URL; expected the KFP API endpoint, e.g. https://HOST/pipeline "
                     "or http://localhost:8080")
secret_name = _matching(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$",
                        "a Kubernetes Secret name (lowercase letters, digits, '-' and '.')")
project_id = _matching(r"^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$",
                       "a Google Cloud project id (6-30 lowercase letters, digits and hyphens)")
region_name = _matching(r"^[a-z]+-[a-z]+[0-9]+$", "a Google Cloud region such as europe-west4 or us-central1")
account_email = _matching(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "a service account email")


def _label(text: str) -> tuple[str, str]:
  key, _, value = text.partition("=")
  if not key or not value:
    raise argparse.ArgumentTypeError(f"{text!r} is not LABEL=VALUE")
  return key, value


def _toleration(text: str) -> dict:
  """KEY[=VALUE]:EFFECT, e.g. nvidia.com/gpu:NoSchedule or pool=gpu:NoSchedule."""
  key_value, _, effect = text.rpartition(":")
  key, _, value = key_value.partition("=")
  if not key or effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
    raise argparse.ArgumentTypeError(f"{text!r} is not KEY[=VALUE]:EFFECT with EFFECT NoSchedule, "
                                           "PreferNoSchedule or NoExecute")
  return {"key": key, "operator": "Equal", "value": value, "effect": effect} if value else \
      {"key": key, "operator": "Exists", "effect": effect}


def _parser():
  parser = flags.OneLineParser(prog="kubeflow_runner.py", description=__doc__.splitlines()[0])
  flags.add_run_flags(parser)
  parser.set_defaults(warm_start=True)   # retraining: each run starts from the latest blessed model
  cluster = parser.add_argument_group("cluster")
  cluster.add_argument("--pipeline-root", type=pipeline_root, required=True,
                       help="where the runs keep artifacts and pushed models: gs://BUCKET[/PATH]")
  cluster.add_argument("--image", type=image_reference, default="redes:latest",
                       help="container image built from the Dockerfile")
  cluster.add_argument("--trainer-gpus", type=flags.non_negative_int, default=1)
  cluster.add_argument("--tilegen-gpus", type=flags.non_negative_int, default=1)
  cluster.add_argument("--vertex-accelerator", default=DEFAULT_VERTEX_ACCELERATOR, metavar="NAME",
                       help="GPU of the GPU steps on Vertex AI, e.g. NVIDIA_L4, NVIDIA_TESLA_T4, NVIDIA_A100_80GB "
                            f"(default {DEFAULT_VERTEX_ACCELERATOR}; Kubeflow requests nvidia.com/gpu)")
  cluster.add_argument("--gpu-node-selector", type=_label, nargs="*", default=[], metavar="LABEL=VALUE",
                       help="node labels the GPU steps must run on, e.g. cloud.google.com/gke-accelerator=nvidia-l4")
  cluster.add_argument("--gpu-toleration", type=_toleration, nargs="*", default=None, metavar="KEY[=VALUE]:EFFECT",
                       help="taints the GPU steps tolerate (default: nvidia.com/gpu:NoSchedule)")
  cluster.add_argument("--credentials-secret", type=secret_name, default=None,
                       help="Kubernetes Secret with keys ee-private-key and project-id for the Earth Engine steps "
                            "(default: the pods' Application Default Credentials)")
  cluster.add_argument("--beam-arg", action="append", default=None, metavar="ARG",
                       help="a Beam pipeline argument, repeatable (e.g. --beam-arg=--runner=DataflowRunner)")
  cluster.add_argument("--spec-name", type=flags.plain_name, default=SPEC_NAME,
                       help="base name of the compiled files")
  group = parser.add_argument_group("submit")
  group.add_argument("--submit", action="store_true",
                     help="start a run: on Kubeflow Pipelines at --host, or on Vertex AI with --vertex")
  group.add_argument("--host", type=api_host, default=None, help="KFP API endpoint, e.g. https://HOST/pipeline")
  group.add_argument("--vertex", action="store_true", help="submit to Vertex AI Pipelines (needs --project, "
                                                           "--region; credentials: Application Default)")
  group.add_argument("--project", type=project_id, default=None, help="Google Cloud project of Vertex AI")
  group.add_argument("--region", type=region_name, default=None, help="Vertex AI region, e.g. europe-west4")
  group.add_argument("--service-account", type=account_email, default=None,
                     help="service account Vertex AI runs the pipeline as")
  group.add_argument("--vertex-endpoint", default="", help=argparse.SUPPRESS)   # tests: a loopback fake
  group.add_argument("--experiment", type=flags.plain_name, default="redes")
  group.add_argument("--schedule", default="", metavar="CRON",
                     help="with --submit: a recurring run on this standard five-field cron schedule (minute hour "
                          "day-of-month month day-of-week) instead of one run")
  group.add_argument("--schedule-timezone", default="UTC", metavar="ZONE",
                     help="IANA time zone the schedule is meant in (default UTC)")
  group.add_argument("--scheduler-timezone", default="UTC", metavar="ZONE",
                     help="time zone of the Kubeflow cluster's scheduler (its CRON_SCHEDULE_TIMEZONE; UTC in KFP's "
                          "manifests); Kubeflow schedules must be meant in it")
  return parser


def _check_target(parser, args):
  """Checks of the submit flags across each other; returns the parsed schedule or None."""
  if args.vertex_accelerator not in vertex_accelerators():
    parser.error(f"argument --vertex-accelerator: {args.vertex_accelerator!r} is not a Vertex AI GPU; expected one "
                 f"of {', '.join(vertex_accelerators())}")
  if args.host and args.vertex:
    parser.error("argument --host: --host (Kubeflow Pipelines) and --vertex (Vertex AI) exclude each other")
  for name in ("host", "vertex", "schedule"):
    if getattr(args, name) and not args.submit:
      parser.error(f"argument --{name}: needs --submit")
  if args.submit and not (args.host or args.vertex):
    parser.error("argument --submit: needs --host (the KFP API endpoint) or --vertex")
  if args.vertex and not (args.project and args.region):
    parser.error("argument --vertex: Vertex AI needs --project and --region")
  if not args.schedule:
    return None
  try:
    parsed = schedule.parse(args.schedule, args.schedule_timezone)
    if args.host:
      schedule.check_kubeflow_zone(parsed, args.scheduler_timezone)
  except schedule.ScheduleError as err:
    parser.error(str(err))
  return parsed


def main(argv=None) -> int:
  parser = _parser()
  args = parser.parse_args(argv)
  recurring = _check_target(parser, args)
  config = flags.run_config(parser, args, runs_here=False)
  try:
    config = for_cluster(config)
  except ValueError as err:
    parser.error(str(err))
  if (config.data.source == "earthengine" or config.tiles.start_year) and not args.credentials_secret:
    print("Earth Engine steps authenticate with the pods' Application Default Credentials (a GKE workload's or the "
          "Vertex AI job's service account); --credentials-secret gives them a key instead")
  client = None
  if args.submit and args.host:
    try:
      client = submit.connect(args.host)
    except submit.SubmitError as err:
      parser.error(str(err))
  default_cluster = Cluster(args.pipeline_root, args.image)
  cluster = Cluster(args.pipeline_root, args.image, args.trainer_gpus, args.tilegen_gpus, args.vertex_accelerator,
                    dict(args.gpu_node_selector),
                    default_cluster.gpu_tolerations if args.gpu_toleration is None else tuple(args.gpu_toleration),
                    args.credentials_secret or "", tuple(args.beam_arg or ()))
  started = time.time()
  yaml_path, json_path = compile_pipeline(config, cluster, config.output_dir, args.spec_name)
  print(f"compiled in {time.time() - started:.1f} s: {yaml_path} (Kubeflow Pipelines), {json_path} (Vertex AI)")
  if not args.submit:
    return 0
  try:
    if args.vertex:
      print(submit.submit_vertex(json_path, args.project, args.region, args.pipeline_root, runtime_defaults(config),
                                 recurring, args.service_account, args.vertex_endpoint))
    else:
      print(submit.submit_kubeflow(client, yaml_path, args.spec_name, args.experiment, args.pipeline_root,
                                   runtime_defaults(config), recurring))
  except submit.SubmitError as err:
    print(f"kubeflow_runner.py: error: {err}", file=sys.stderr)
    return 1
  return 0


if __name__ == "__main__":
  sys.exit(main())
