"""Benchmark of the compiled pipeline executed as open-source Kubeflow Pipelines and Vertex AI execute it (the
emulation of tests/orchestrators.py), run on demand: `.venv/bin/python bench/kubeflow_emulation.py [--epochs 1]`.

Compiles once (the demo source, 5 patches per split, zoom 11-12), then per target runs the DAG twice through each
task's container command (the second run warm-starts from the first run's blessed model) and prints each task's
seconds and the totals. Tasks run in this process, so TFX is imported once (a pod imports it in every task).
"""
import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--epochs", type=int, default=1)
  args = parser.parse_args()
  import yaml  # pylint: disable=import-outside-toplevel

  import kubeflow_runner  # pylint: disable=import-outside-toplevel
  from tests.orchestrators import KubeflowPipelines, VertexPipelines  # pylint: disable=import-outside-toplevel
  os.chdir(ROOT)
  with tempfile.TemporaryDirectory(prefix="redes-bench-emulation-") as folder:
    root = "gs://redes-emulation/redes"
    started = time.time()
    assert kubeflow_runner.main(["--pipeline-root", root, "--output-dir", folder, "--max-patches-per-split", "5",
                                 "--epochs", str(args.epochs), "--batch-size", "4", "--min-z", "11", "--max-z", "12",
                                 "--bless-margin-db", "-30", "--bless-tolerance-db", "50",
                                 "--robustness-tolerance-db", "50", "--texture-ceiling", "100"]) == 0
    compile_seconds = time.time() - started
    with open(os.path.join(folder, "redes_pipeline.yaml")) as f:
      kfp_spec = next(yaml.safe_load_all(f))
    with open(os.path.join(folder, "redes_pipeline_job.json")) as f:
      job = json.load(f)
    table = {}
    for target, orchestrator in (("KFP", KubeflowPipelines(kfp_spec, os.path.join(folder, "kfp"))),
                                 ("Vertex AI", VertexPipelines(job["pipelineSpec"], os.path.join(folder, "vertex")))):
      for run in ("first run", "warm-start run"):
        tasks = orchestrator.run(root, job["runtimeConfig"]["parameterValues"])
        failed = {name: task.error for name, task in tasks.items() if task.error}
        if failed:
          raise SystemExit(f"{target}, {run}: failed tasks {failed}")
        table[(target, run)] = {name: task.seconds for name, task in tasks.items()}
  columns = list(table)
  print(f"compile (TFX import included): {compile_seconds:.1f} s; {args.epochs} epoch(s)")
  print(f"{'task':<18}" + "".join(f"{t + ', ' + r:>26}" for t, r in columns))
  for name in table[columns[0]]:
    print(f"{name:<18}" + "".join(f"{table[c][name]:>26.1f}" for c in columns))
  print(f"{'total':<18}" + "".join(f"{sum(table[c].values()):>26.1f}" for c in columns))


if __name__ == "__main__":
  main()
