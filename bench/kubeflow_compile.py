"""Benchmark of compiling the full pipeline for Kubeflow, run on demand: `.venv/bin/python bench/kubeflow_compile.py`.

Runs kubeflow_runner.py in a fresh process (as a user would) and prints the process wall time (Python start and the
TFX import included), the compile time it reports, and the size of the KFP YAML and the Vertex AI JSON.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
  with tempfile.TemporaryDirectory(prefix="redes-bench-kfp-") as output_dir:
    started = time.time()
    result = subprocess.run([sys.executable, os.path.join(ROOT, "kubeflow_runner.py"), "--pipeline-root",
                             "gs://example-bucket/redes", "--image", "registry.example/redes:1", "--output-dir",
                             output_dir], check=True, capture_output=True, text=True)
    wall = time.time() - started
    compile_seconds = float(re.search(r"compiled in ([0-9.]+) s", result.stdout).group(1))
    sizes = {name: os.path.getsize(os.path.join(output_dir, name)) for name in sorted(os.listdir(output_dir))}
  print(f"process wall time {wall:.1f} s (TFX import included); compile {compile_seconds:.1f} s")
  for name, size in sizes.items():
    print(f"{name}: {size / 1024:.1f} KiB")


if __name__ == "__main__":
  main()
