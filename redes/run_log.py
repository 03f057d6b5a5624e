"""Where the log lines of a local run (local_runner.py) and of the `redes` command (pipeline/cli.py) go: every record
into a file (`<output-dir>/run.log` for a run); on the console, Redes' own lines, the component starts and ends of
TFX's LocalDagRunner, and every error.

What libraries log below ERROR (Beam's statistics, TFX's configuration dumps, TensorFlow's and Python's warnings)
stays in the file only, and the run's summary counts the warnings among them, so none is hidden: the console shows
progress and results. What native code writes to the process's standard error (TensorFlow's and gRPC's C++ log
lines, which no setting silences before absl initialises) goes to the same file: file descriptor 2 points there
while the run lasts, and Python's `sys.stderr` stays on the console (where it wrote to descriptor 2, it is pointed at a
copy of the former one; a test's captured stream stays as it is). One TFX warning is dropped instead of counted,
see `_SPURIOUS`.
"""
import contextlib
import dataclasses
import logging
import os
import sys

from absl import logging as absl_logging

# Top-level packages and scripts of Redes: their records are "own" ones.
_OWN = {"redes", "components", "pipeline", "models", "local_runner.py", "kubeflow_runner.py"}
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PROGRESS = ("Component %s is running.", "Component %s is finished.")   # tfx/orchestration/local/local_dag_runner.py
_FORWARDED = "Worker: %s"             # apache_beam/runners/portability/local_job_service.py
# tfx/orchestration/portable/input_resolution/channel_resolver.py tests `if artifact_query.property_predicate:`,
# which is true for an unset message under the upb protobuf runtime, so it warns on every channel it resolves.
# redes/run_log_test.py checks that no channel of the compiled DAG sets that predicate.
_SPURIOUS = "ArtifactQuery.property_predicate is not supported."
FORMAT = "%(asctime)s %(levelname)s %(message)s"


def _own_file(path: str) -> bool:
  relative = os.path.relpath(path, _ROOT)
  return not relative.startswith("..") and relative.split(os.sep)[0] in _OWN


def _forwarded_entry(record: logging.LogRecord):
  """The Beam worker's LogEntry that a record of Beam's local job service logs again as "Worker: <LogEntry>" (its
  multi-process runs forward their workers' records so), or None for any other record."""
  if not (record.msg == _FORWARDED and record.pathname.endswith("local_job_service.py") and record.args):
    return None
  # pylint: disable-next=import-outside-toplevel  (only Beam's multi-process runs forward records)
  from apache_beam.portability.api import beam_fn_api_pb2
  from google.protobuf import text_format  # pylint: disable=import-outside-toplevel
  return text_format.Parse(str(record.args[0]), beam_fn_api_pb2.LogEntry())


def is_own(record: logging.LogRecord) -> bool:
  """Whether a record comes from Redes' own code: by the file that logged it, or for a Beam worker's record that
  Beam's local job service forwards, by the entry's location."""
  entry = _forwarded_entry(record)
  return _own_file(record.pathname if entry is None else entry.log_location.rsplit(":", 1)[0])


class _ConsoleFormatter(logging.Formatter):
  """FORMAT; a forwarded record of a Beam worker shows as the worker's own message (the file keeps the forwarded
  entry whole, with its location)."""

  def format(self, record):
    entry = _forwarded_entry(record)
    if entry is not None:
      record = logging.makeLogRecord({**record.__dict__, "msg": entry.message, "args": ()})
    return super().format(record)


def _not_spurious(record: logging.LogRecord) -> bool:
  return not (record.msg == _SPURIOUS and record.pathname.endswith("channel_resolver.py"))


@dataclasses.dataclass
class RunLog:
  """The log file of a run and what it holds that the console did not show."""
  path: str
  library_warnings: int = 0
  complete: bool = True       # False once a write failed (a full disk): later records are not in the file


class _Console(logging.Filter):
  def __init__(self, log: RunLog):
    super().__init__()
    self._log = log

  def filter(self, record):
    if record.levelno >= logging.ERROR or is_own(record) or record.msg in _PROGRESS:
      return True
    if record.levelno >= logging.WARNING:
      self._log.library_warnings += 1
    return False


class _File(logging.FileHandler):
  """A file handler that stops writing, silently, once a write fails (a full disk is reported by the run)."""

  def __init__(self, log: RunLog):
    super().__init__(log.path, encoding="utf-8", delay=True)
    self._log = log

  def emit(self, record):
    if not self._log.complete:
      return
    try:
      super().emit(record)       # opening the file (on the first record) raises here; writing calls handleError
    except OSError:
      self._log.complete = False

  def handleError(self, record):  # noqa: N802  (logging's name)
    self._log.complete = False


def _writes_to_descriptor_2(stream) -> bool:
  try:
    return stream.fileno() == 2
  except (AttributeError, OSError, ValueError):   # io.UnsupportedOperation is an OSError and a ValueError
    return False


@contextlib.contextmanager
def _native_stderr_to(path: str):
  """Points file descriptor 2 at `path` (appending), and `sys.stderr`, where it wrote there, at the former
  descriptor 2; yields the console stream and restores both afterwards."""
  sys.stderr.flush()
  console_fd = os.dup(2)
  file_fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
  saved = sys.stderr
  # pylint: disable-next=consider-using-with  (closed when the block ends)
  console = open(console_fd, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
  os.dup2(file_fd, 2)
  os.close(file_fd)
  if _writes_to_descriptor_2(saved):
    sys.stderr = console
  try:
    yield sys.stderr
  finally:
    console.flush()
    os.dup2(console_fd, 2)
    os.close(console_fd)
    sys.stderr = saved
    console.close()


@contextlib.contextmanager
def to(output_dir: str):
  """to_file(`<output_dir>/run.log`), the folder made."""
  os.makedirs(output_dir, exist_ok=True)
  with to_file(os.path.join(output_dir, "run.log")) as log:
    yield log


@contextlib.contextmanager
def to_file(path: str):
  """While the block runs: adds the two handlers described above to the root logger, sends native standard error
  to the file at `path`, and logs Python warnings (logging.captureWarnings); yields the RunLog. Afterwards,
  restores all of it."""
  log = RunLog(path)
  root = logging.getLogger()
  with contextlib.ExitStack() as stack:
    try:
      console_stream = stack.enter_context(_native_stderr_to(log.path))
    except OSError:                 # no room even to open the file: native lines stay on the console
      console_stream, log.complete = sys.stderr, False
    console, file = logging.StreamHandler(console_stream), _File(log)
    for handler in (console, file):
      handler.addFilter(_not_spurious)
    console.addFilter(_Console(log))   # after that one: it counts the warnings it does not show
    console.setFormatter(_ConsoleFormatter(FORMAT))
    file.setFormatter(logging.Formatter(FORMAT))
    for handler in (console, file):
      root.addHandler(handler)
      stack.callback(handler.close)
      stack.callback(root.removeHandler, handler)
    stack.callback(root.setLevel, root.level)
    root.setLevel(logging.INFO)
    # TensorFlow's SavedModel writer sets absl's verbosity to FATAL and back to what absl reports, which is its flag's
    # default (WARNING) until set: so without this, TFX's INFO lines stop after the first model is saved.
    stack.callback(absl_logging.set_verbosity, absl_logging.get_verbosity())
    absl_logging.set_verbosity(absl_logging.INFO)
    logging.captureWarnings(True)
    stack.callback(logging.captureWarnings, False)
    yield log
