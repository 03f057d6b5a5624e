"""Runs the Redes DAG on this machine with TFX's LocalDagRunner (sqlite MLMD store, caching on).

    python local_runner.py [--epochs 100] [--output-dir redes_output] ...   (see --help)

A second run reuses every component whose inputs and settings are unchanged; a run that was killed midway
resumes from the finished components (what a killed run left unfinished is marked CANCELED in MLMD and its output
folders removed first: redes.recovery); `--rebuild COMPONENT` runs that component again (for example after its
output was damaged) and so everything downstream of it. A full disk stops the run with one line naming the path
(redes.disk_full); the same command resumes once space is freed. At the end it prints a summary and writes
<output-dir>/summary.json. The console shows Redes' lines and the components' starts and ends; everything logged,
libraries' lines included, is in <output-dir>/run.log (redes.run_log).
One run per output folder at a time (redes.lock): a second one stops with one line naming the holder.
"""
import os
import sys
import time

from pipeline import flags
from redes import run_log
from redes.lock import FolderLocked, folder_lock


def main(argv=None) -> int:
  started = time.time()
  config, args = flags.parse_run_config(argv, prog="local_runner.py", description=__doc__.splitlines()[0])
  try:
    with folder_lock(config.output_dir, "local_runner.py run"):
      return _run(config, started, args.rebuild)
  except FolderLocked as err:
    print(f"local_runner.py: error: argument --output-dir: {err}", file=sys.stderr)
    return 2


def _compiled(dag, rebuild):
  """The DAG's IR with caching off for the components to rebuild (their new outputs make every later component
  run again). LocalDagRunner.run compiles the same way; it also packages pip dependencies, which no Redes
  component declares."""
  # pylint: disable-next=import-outside-toplevel  (TFX loads slowly; the flags are checked first)
  from tfx.dsl.compiler import compiler
  ir = compiler.Compiler().compile(dag)
  for node in ir.nodes:
    if node.pipeline_node.node_info.id in rebuild:
      node.pipeline_node.execution_options.caching_options.enable_cache = False
  return ir


def _disk_full_line(path: str, record: dict | None) -> str:
  stopped = [name for name, c in (record or {}).get("components", {}).items() if c["state"] in ("failed", "running")]
  return (f"no space left on the device holding {path} ({', '.join(stopped) or 'the run'} stopped; what it had "
          "begun was removed, the finished components are kept): free some space and run the same command again")


def _run(config, started: float, rebuild=()) -> int:
  with run_log.to(config.output_dir) as log:         # before TensorFlow's import, which adds a handler otherwise
    failure_line = _run_logged(config, started, rebuild, log)
  if failure_line is not None:
    print(f"local_runner.py: error: {failure_line}", file=sys.stderr)
    return 1
  return 0


def _run_logged(config, started: float, rebuild, log: run_log.RunLog) -> str | None:
  """Runs the DAG and prints its summary; returns the failure's line, None when it succeeded."""
  # pylint: disable=import-outside-toplevel  (TFX and TensorFlow take ~30 s to load; the flags are checked first)
  from tfx import v1 as tfx
  from pipeline.configs import PIPELINE_NAME
  from pipeline.pipeline import create_pipeline, output_paths
  from redes import disk_full, summary
  from redes.recovery import abandon_unfinished

  paths = output_paths(config.output_dir)
  abandon_unfinished(paths["metadata"], paths["pipeline_root"])
  dag = create_pipeline(
      config, paths["pipeline_root"], paths["serving"],
      metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(paths["metadata"]))
  failure = None
  try:
    tfx.orchestration.LocalDagRunner().run_with_ir(_compiled(dag, set(rebuild)))
  except Exception as err:  # pylint: disable=broad-except  (reported below, with the partial summary)
    failure = err
  record = summary.summarise_run(paths["metadata"], PIPELINE_NAME) if os.path.exists(paths["metadata"]) else None
  failure_line = None if failure is None else f"{type(failure).__name__}: {failure}"
  full_at = None if failure is None else disk_full.find(failure)
  if full_at is not None:
    failure_line = _disk_full_line(full_at or config.output_dir, record)
  if record is not None:
    record["seconds_total"] = round(time.time() - started, 1)
    record["failure"] = failure_line
    record["log"] = {"path": log.path, "library_warnings": log.library_warnings, "complete": log.complete}
    print(summary.format_text(record, record["seconds_total"]))
    try:
      summary.write(record, paths["summary"])
      print(f"summary: {paths['summary']}")
    except OSError as err:
      print(f"summary not written: {err}")
  return failure_line


if __name__ == "__main__":
  sys.exit(main())
