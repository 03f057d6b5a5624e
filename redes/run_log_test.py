"""The run's log: Redes' lines, component starts and ends and errors on the console, everything in run.log, library
warnings counted; and the one TFX warning dropped is shown to be spurious for this DAG."""
import logging
import os
import sys

import local_runner
from pipeline import flags
from redes import run_log

TFX_FILE = os.path.join(os.sep, "venv", "site-packages", "tfx", "orchestration", "local", "local_dag_runner.py")


def _record(pathname: str, level: int, msg: str, *args) -> logging.LogRecord:
  return logging.LogRecord("absl", level, pathname, 1, msg, args, None)


def _entry(message: str, path: str) -> str:
  """A Beam worker's log entry as Beam's local job service logs it again."""
  # pylint: disable-next=import-outside-toplevel  (Beam loads slowly)
  from apache_beam.portability.api import beam_fn_api_pb2
  entry = beam_fn_api_pb2.LogEntry(severity=beam_fn_api_pb2.LogEntry.Severity.INFO, message=message,
                                   log_location=f"{path}:142", thread="MainThread")
  return str(entry).replace("\n", " ")


def test_the_console_shows_own_lines_progress_and_errors_and_the_file_everything(tmp_path, capfd):
  own = os.path.join(os.path.dirname(run_log.__file__), "summary.py")
  beam = os.path.join(os.sep, "venv", "site-packages", "apache_beam", "runners", "common.py")
  job_service = os.path.join(os.sep, "venv", "site-packages", "apache_beam", "runners", "portability",
                             "local_job_service.py")
  resolver = os.path.join(os.sep, "venv", "site-packages", "tfx", "orchestration", "portable", "input_resolution",
                          "channel_resolver.py")
  with run_log.to(str(tmp_path)) as log:
    root = logging.getLogger()
    for record in (_record(own, logging.INFO, "TileGen: enhancing %s", "scene"),
                   _record(TFX_FILE, logging.INFO, "Component %s is running.", "Trainer"),
                   _record(TFX_FILE, logging.INFO, "Using deployment config:\n %s", "executor_specs {}"),
                   _record(beam, logging.INFO, "BatchElements statistics"),
                   _record(beam, logging.WARNING, "a library warning"),
                   _record(beam, logging.ERROR, "a library error"),
                   _record(resolver, logging.WARNING, "ArtifactQuery.property_predicate is not supported."),
                   _record(job_service, logging.INFO, "Worker: %s", _entry("enhanced 2019 into /r/\"a\".tif", own)),
                   _record(job_service, logging.INFO, "Worker: %s", _entry("Creating state cache", beam))):
      root.handle(record)
    logging.warning("a Python warning about %s", "this")
    os.write(2, b"I0000 port.cc:153] a native line\n")
    print("a Python line on standard error", file=sys.stderr)
  console = capfd.readouterr().err
  assert [line.split(" ", 2)[2] if line[:4].isdigit() else line for line in console.splitlines()] == [
      "INFO TileGen: enhancing scene", "INFO Component Trainer is running.", "ERROR a library error",
      'INFO enhanced 2019 into /r/"a".tif',
      "WARNING a Python warning about this", "a Python line on standard error"]
  lines = (tmp_path / "run.log").read_text()
  assert "Using deployment config:" in lines and "BatchElements statistics" in lines and "a library warning" in lines
  assert "Creating state cache" in lines and 'Worker: severity: INFO message: "Creating' in lines
  assert 'Worker: severity: INFO message: "enhanced 2019 into /r/\\"a\\".tif"' in lines   # kept whole, where from
  assert "property_predicate" not in lines and "a native line" in lines and "a native line" not in console
  assert (log.library_warnings, log.complete, log.path) == (1, True, str(tmp_path / "run.log"))
  assert run_log.FORMAT not in [h.formatter._fmt for h in logging.getLogger().handlers if h.formatter]  # removed


def test_a_failed_write_stops_the_file_quietly(tmp_path, capfd):
  (tmp_path / "run.log").mkdir()              # the file cannot be opened, as on a full disk it cannot be written
  with run_log.to(str(tmp_path)) as log:
    logging.info("first")
    logging.info("second")
  assert not log.complete
  assert "Logging error" not in capfd.readouterr().err and not os.listdir(tmp_path / "run.log")


def test_no_channel_of_the_compiled_dag_sets_the_property_predicate_tfx_warns_about(tmp_path):
  # pylint: disable-next=import-outside-toplevel  (TFX loads slowly)
  from tfx.proto.orchestration import pipeline_pb2
  from pipeline.pipeline import create_pipeline, output_paths   # pylint: disable=import-outside-toplevel
  config, _ = flags.parse_run_config(["--output-dir", str(tmp_path)], prog="local_runner.py", description="")
  paths = output_paths(str(tmp_path))
  dag = create_pipeline(config, paths["pipeline_root"], paths["serving"])
  ir = local_runner._compiled(dag, set())  # pylint: disable=protected-access
  channels = [channel for node in ir.nodes for spec in node.pipeline_node.inputs.inputs.values()
              for channel in spec.channels]
  assert len(channels) > 10
  assert not any(c.artifact_query.HasField("property_predicate") for c in channels)
  # What TFX's channel resolver tests instead: an unset message is true under the upb runtime.
  assert bool(pipeline_pb2.InputSpec.Channel.ArtifactQuery().property_predicate)
