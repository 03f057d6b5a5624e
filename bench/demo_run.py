"""Benchmark of the default local run (what `make demo` runs): wall time per component and in total, TFX import
included, the headline metrics, and how many lines the console and the run's log file got. Run on demand: `make bench` or `.venv/bin/python bench/demo_run.py [flags]`;
extra flags go to local_runner.py. Uses a fresh output directory so nothing comes from the cache."""
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> int:
  with tempfile.TemporaryDirectory(prefix="redes-bench-") as output_dir:
    started = time.time()
    run = subprocess.run([sys.executable, os.path.join(ROOT, "local_runner.py"), "--output-dir", output_dir,
                          *sys.argv[1:]], check=True, capture_output=True, text=True)
    wall = time.time() - started
    with open(os.path.join(output_dir, "summary.json")) as f:
      summary = json.load(f)
    with open(summary["log"]["path"]) as f:
      log_lines = len(f.read().splitlines())
  print(f"{'component':<18} {'seconds':>8}")
  for name, info in summary["components"].items():
    print(f"{name:<18} {info['seconds']:>8.1f}")
  print(f"{'process wall time':<18} {wall:>8.1f}  (python start, TFX import and summary included)")
  print("examples per split:", summary["examples"])
  for model, values in summary["metrics"].items():
    print(f"{model}: " + ", ".join(f"{name} {value}" for name, value in sorted(values.items())))
  print("blessed:", summary["blessed"])
  print(f"console: {len(run.stdout.splitlines())} lines on standard output, {len(run.stderr.splitlines())} on "
        f"standard error; run.log: {log_lines} lines, {summary['log']['library_warnings']} library warnings")
  return 0


if __name__ == "__main__":
  sys.exit(main())
