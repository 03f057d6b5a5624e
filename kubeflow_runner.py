"""Compiles the Redes DAG for Kubeflow Pipelines (KFP v2): a PipelineSpec YAML that the KFP UI or kfp.Client
uploads, with a GPU requested for the Trainer.

    python kubeflow_runner.py --pipeline-root gs://BUCKET/redes --image REGISTRY/redes:TAG [run flags]

The run flags are those of local_runner.py (see --help); they become the compiled pipeline's settings.
"""
import os
import sys

from pipeline import flags

SPEC_FILE = "redes_pipeline.yaml"


def main(argv=None) -> int:
  parser = flags.OneLineParser(prog="kubeflow_runner.py", description=__doc__.splitlines()[0])
  flags.add_run_flags(parser)
  parser.add_argument("--pipeline-root", required=True, help="where the cluster keeps artifacts, e.g. gs://...")
  parser.add_argument("--image", default="redes:latest", help="container image built from the Dockerfile")
  parser.add_argument("--trainer-gpus", type=flags.positive_int, default=1)
  parser.add_argument("--spec-file", default=SPEC_FILE, help="file name of the compiled spec (.yaml or .json)")
  args = parser.parse_args(argv)
  if not args.spec_file.endswith((".yaml", ".yml", ".json")) or os.sep in args.spec_file:
    parser.error(f"argument --spec-file: {args.spec_file!r} is not a plain .yaml, .yml or .json file name")
  config = flags.run_config(parser, args, runs_here=False)

  from tfx import v1 as tfx  # pylint: disable=import-outside-toplevel  (slow: ~30 s)
  from pipeline.pipeline import create_pipeline  # pylint: disable=import-outside-toplevel
  dag = create_pipeline(config, args.pipeline_root, os.path.join(args.pipeline_root, "serving"),
                        beam_pipeline_args=["--direct_num_workers=0"], trainer_gpus=args.trainer_gpus)
  runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
      config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=args.image),
      output_dir=config.output_dir, output_filename=args.spec_file)
  runner.run(dag)
  print(f"compiled pipeline: {os.path.join(config.output_dir, args.spec_file)}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
