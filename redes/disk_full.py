"""A write that failed because its filesystem is full, named as such. Writers report it as they fail, while what
they had written still fills the disk (`named_when_full` in redes.atomic's staging and in the COG writer), since
GDAL, Beam or TensorFlow often report a full disk as some other I/O error; `find()` reads it back from whatever a
run raised, so that local_runner.py can say so in one line, with the path, instead of the last library's message.
"""
import contextlib
import errno
import os
import re
import shutil

FULL_BELOW = 8 << 20   # bytes: a write that fails with less than this free on its filesystem failed for want of space
MESSAGES = ("No space left on device", "database or disk is full")   # what the C libraries' errors say
# A DiskFull as Beam's workers re-raise it: its text inside a RuntimeError of their own, the chain lost
NAMED_IN_TEXT = re.compile(r"DiskFull: \[Errno 28\] No space left on device(?: \([^)]*\))?: '([^']+)'")


class DiskFull(OSError):
  """OSError(ENOSPC) naming the file that could not be written."""

  def __init__(self, path: str, detail: str = ""):
    super().__init__(errno.ENOSPC, "No space left on device" + (f" ({detail})" if detail else ""), path)


def free_bytes(path: str) -> int | None:
  """The bytes free on the local filesystem holding `path` (its nearest existing folder); None for a remote one."""
  if "://" in path:
    return None
  folder = os.path.abspath(path)
  while not os.path.isdir(folder):
    folder = os.path.dirname(folder)
  return shutil.disk_usage(folder).free


def require(path: str, needed: int) -> None:
  """Raises DiskFull(path) unless `needed` bytes are free where `path` is written: for writers that a full disk
  leaves in a bad state (h5py's files crash the interpreter at exit after a failed write)."""
  free = free_bytes(path)
  if free is not None and free < needed:
    raise DiskFull(path, f"{needed} bytes needed, {free} free")


def is_full(path: str, err: BaseException) -> bool:
  """Whether `err`, raised while writing `path`, came from its filesystem being full."""
  if isinstance(err, OSError) and err.errno == errno.ENOSPC:
    return True
  free = free_bytes(path) if isinstance(err, Exception) else None
  return free is not None and free < FULL_BELOW


@contextlib.contextmanager
def named_when_full(path: str):
  """Raises DiskFull(path) from an error of the block that came from `path`'s filesystem being full."""
  try:
    yield
  except DiskFull:
    raise
  except BaseException as err:
    if is_full(path, err):
      raise DiskFull(path) from err
    raise


def find(err: BaseException) -> str | None:
  """The path that a full disk stopped a run from writing, found in `err` or what it was raised from (or in the text
  of a DiskFull a Beam worker passed on); "" when only a library's message tells of the full disk; None when the
  disk was not full."""
  seen = set()
  while err is not None and id(err) not in seen:
    seen.add(id(err))
    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
      return err.filename or ""
    if any(message in str(err) for message in MESSAGES):
      named = NAMED_IN_TEXT.search(str(err))
      return named.group(1) if named else ""
    err = err.__cause__ or err.__context__
  return None
