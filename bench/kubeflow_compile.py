"""Benchmark of compiling the full pipeline for Kubeflow, run on demand: `.venv/bin/python bench/kubeflow_compile.py`.

Runs kubeflow_runner.py in a fresh process (as a user would) and prints the process wall time (Python start and the
TFX import included), the compile time it reports (TFX import included), the TFX import alone (another fresh
process), and the size of the KFP YAML and the Vertex AI JSON.
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
  importing = subprocess.run([sys.executable, "-c", "import time; t = time.time(); from tfx import v1; "
                              "print(time.time() - t)"], check=True, capture_output=True, text=True)
  import_seconds = float(importing.stdout.strip().splitlines()[-1])
  print(f"process wall time {wall:.1f} s; compile {compile_seconds:.1f} s, of which importing TFX "
        f"~{import_seconds:.1f} s (measured alone)")
  for name, size in sizes.items():
    print(f"{name}: {size / 1024:.1f} KiB")


if __name__ == "__main__":
  main()
