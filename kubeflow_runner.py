"""Compiles the Redes DAG for Kubeflow Pipelines v2 (and Vertex AI) and, when asked, starts or schedules it.

    python kubeflow_runner.py --pipeline-root gs://BUCKET/redes --image REGISTRY/redes:TAG [run flags]
        [--submit (--host https://KFP_HOST | --vertex --project P --region R) [--schedule "0 3 * * 1"]]

Writes <output-dir>/redes_pipeline.yaml (upload it in the KFP UI) and <output-dir>/redes_pipeline_job.json (a
Vertex AI PipelineJob); see pipeline/kubeflow.py. The run flags are those of local_runner.py (see --help): they set
the compiled defaults, and the runtime parameters (epochs, batch_size, min_z, max_z, start_year, stop_year,
init_date, end_date, train/eval/test_geojson) can be changed per run in the KFP UI.
"""
import argparse
import sys
import time

from pipeline import flags

SPEC_NAME = "redes_pipeline"
ROOT_SCHEMES = ("gs://", "s3://", "minio://")


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
  cluster.add_argument("--pipeline-root", required=True, help="where the cluster keeps artifacts: gs://, s3:// or "
                                                              "minio://")
  cluster.add_argument("--image", default="redes:latest", help="container image built from the Dockerfile")
  cluster.add_argument("--trainer-gpus", type=flags.non_negative_int, default=1)
  cluster.add_argument("--tilegen-gpus", type=flags.non_negative_int, default=1)
  cluster.add_argument("--gpu-node-selector", type=_label, nargs="*", default=[], metavar="LABEL=VALUE",
                       help="node labels the GPU steps must run on, e.g. cloud.google.com/gke-accelerator=nvidia-l4")
  cluster.add_argument("--gpu-toleration", type=_toleration, nargs="*", default=None, metavar="KEY[=VALUE]:EFFECT",
                       help="taints the GPU steps tolerate (default: nvidia.com/gpu:NoSchedule)")
  cluster.add_argument("--credentials-secret", default="",
                       help="Kubernetes Secret with keys ee-private-key and project-id, for Earth Engine steps")
  cluster.add_argument("--beam-arg", action="append", default=None, metavar="ARG",
                       help="a Beam pipeline argument, repeatable (e.g. --beam-arg=--runner=DataflowRunner)")
  cluster.add_argument("--spec-name", type=flags.plain_name, default=SPEC_NAME,
                       help="base name of the compiled files")
  submit = parser.add_argument_group("submit")
  submit.add_argument("--submit", action="store_true",
                      help="start a run: on Kubeflow Pipelines at --host, or on Vertex AI with --vertex")
  submit.add_argument("--host", default="", help="KFP API endpoint, e.g. https://HOST/pipeline")
  submit.add_argument("--vertex", action="store_true", help="submit to Vertex AI Pipelines (needs --project, "
                                                            "--region; credentials: Application Default)")
  submit.add_argument("--project", default="", help="Google Cloud project of Vertex AI")
  submit.add_argument("--region", default="", help="Vertex AI region, e.g. europe-west4")
  submit.add_argument("--service-account", default="", help="service account Vertex AI runs the pipeline as")
  submit.add_argument("--vertex-endpoint", default="", help=argparse.SUPPRESS)   # tests: a loopback fake
  submit.add_argument("--experiment", default="redes")
  submit.add_argument("--schedule", default="", metavar="CRON",
                      help="with --submit: a recurring run on this cron schedule instead of one run")
  return parser


def main(argv=None) -> int:
  from pipeline.kubeflow import Cluster, compile_pipeline, runtime_defaults  # pylint: disable=import-outside-toplevel
  parser = _parser()
  args = parser.parse_args(argv)
  if not args.pipeline_root.startswith(ROOT_SCHEMES):
    parser.error(f"argument --pipeline-root: {args.pipeline_root!r} is not a bucket path; expected "
                 f"{', '.join(ROOT_SCHEMES)}")
  if args.vertex and not (args.project and args.region):
    parser.error("argument --vertex: Vertex AI needs --project and --region")
  if (args.submit or args.schedule) and not (args.host or args.vertex):
    parser.error("argument --host: --submit and --schedule need the KFP API endpoint (or --vertex)")
  if args.schedule and (len(args.schedule.split()) not in (5, 6) or not args.submit):
    parser.error(f"argument --schedule: {args.schedule!r} must be a cron expression of 5 or 6 fields, with --submit")
  config = flags.run_config(parser, args, runs_here=False)
  if (config.data.source == "earthengine" or config.tiles.start_year) and not args.credentials_secret:
    parser.error("argument --credentials-secret: Earth Engine on a cluster (--source earthengine or --start-year) "
                 "needs the Secret holding the key")
  default_cluster = Cluster(args.pipeline_root, args.image)
  cluster = Cluster(args.pipeline_root, args.image, args.trainer_gpus, args.tilegen_gpus,
                    dict(args.gpu_node_selector),
                    default_cluster.gpu_tolerations if args.gpu_toleration is None else tuple(args.gpu_toleration),
                    args.credentials_secret, tuple(args.beam_arg) if args.beam_arg else default_cluster.beam_args)
  started = time.time()
  yaml_path, json_path = compile_pipeline(config, cluster, config.output_dir, args.spec_name)
  print(f"compiled in {time.time() - started:.1f} s: {yaml_path} (Kubeflow Pipelines), {json_path} (Vertex AI)")
  if args.submit and args.vertex:
    from pipeline.submit import submit_vertex  # pylint: disable=import-outside-toplevel
    print(submit_vertex(json_path, args.project, args.region, args.pipeline_root, runtime_defaults(config),
                        args.schedule, args.service_account, args.vertex_endpoint))
  elif args.submit:
    from pipeline.submit import submit  # pylint: disable=import-outside-toplevel
    print(submit(yaml_path, args.host, args.spec_name, args.experiment, runtime_defaults(config), args.schedule))
  return 0


if __name__ == "__main__":
  sys.exit(main())
