"""Files a reader never sees half-written: the content goes to a staging name beside `path` (`<path>.<pid>.part`), which
is renamed over `path` once it is complete, and removed if writing fails. Every file that a later step, a re-run
or a user relies on is written this way (patch cache, demo data, COGs, tiles, animations, videos, the viewer, the
comparison figure, the evaluation's validations, the run summary, the Earth Engine export manifest, the compiled
Kubeflow specs). Paths may be gs:// where a writer can write there (tf.io.gfile). A writer that is killed cannot
remove its staging file; `remove_staging_files` clears a folder no writer uses any longer."""
import contextlib
import functools
import logging
import os
import re

from redes.disk_full import named_when_full


def _file_system(path: str):
  """(rename over, exists, remove) for a local path (its folder made) or a remote one."""
  if "://" not in path:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return os.replace, os.path.exists, os.remove
  import tensorflow as tf  # pylint: disable=import-outside-toplevel  (remote paths only; TensorFlow loads slowly)
  return functools.partial(tf.io.gfile.rename, overwrite=True), tf.io.gfile.exists, tf.io.gfile.remove


def staging_name(path: str, ending: str = "", pid: int | None = None) -> str:
  """`<path>.<pid>.part<ending>`: the name every writer stages `path` under (the ending for one that picks its format
  by extension, or that stages several files; pid: this process, or the one whose work the file is part of), so
  that two processes never share one; one process never writes a path from two threads at once.
  remove_staging_files knows these names by this shape."""
  return f"{path}.{os.getpid() if pid is None else pid}.part{ending}"


_STAGING_NAME = re.compile(r"\.\d+\.part(?:\.\w+)*$")


@contextlib.contextmanager
def staged(path: str | os.PathLike, staging: str = ""):
  """Yields the staging path to write `path` through (default staging_name(path); give one made by staging_name
  with an ending where the writer needs it); renames it over `path` when the block ends, removes it when the block
  raises (an interrupt or a SIGTERM the program turns into SystemExit included), as redes.disk_full.DiskFull when
  the disk is full."""
  path = os.fspath(path)
  staging = staging or staging_name(path)
  rename, exists, remove = _file_system(path)
  try:
    with named_when_full(path):   # told apart while the staging file still fills the disk
      yield staging
  except BaseException:
    if exists(staging):
      remove(staging)
    raise
  rename(staging, path)


def remove_staging_files(folder: str) -> int:
  """Removes every staging file under a local `folder` and returns how many there were. Only for a folder no writer
  uses at the time, such as a published region before its publication starts and once its publishing pipeline has
  stopped: a worker process its runner stopped in the middle of a file (or a killed process) leaves its file."""
  removed = 0
  for parent, _, names in os.walk(folder):
    for name in names:
      if _STAGING_NAME.search(name):
        with contextlib.suppress(FileNotFoundError):
          os.remove(os.path.join(parent, name))
          removed += 1
  if removed:
    logging.info("removed %d staging files that stopped writers left in %s", removed, folder)
  return removed


def write_atomically(path: str, data: bytes | str) -> str:
  """Writes data (text as UTF-8) to path through its staging name; returns path."""
  with staged(path) as staging, open(staging, "w" if isinstance(data, str) else "wb") as f:
    f.write(data)
  return path
