"""One writer per folder at a time: `redes tiles` holds `.<region>.lock` beside the region's folder while it
publishes, and local_runner.py `.<output dir>.lock` beside its output folder while it runs (beside them, so that a
refused run creates no folder).

The lock file names its holder (pid, host, start time, command), so a refused writer can say who holds it. A lock
left by a process that no longer runs on this host is taken over; one held on another host is never taken over.
"""
import contextlib
import datetime
import json
import os
import socket
import sys
import time


class FolderLocked(RuntimeError):
  """The folder is held by another live process; the message names the folder and the holder."""


def _alive(holder: dict) -> bool:
  if holder.get("host") != socket.gethostname():
    return True                       # cannot be checked from here: never taken over
  try:
    os.kill(int(holder["pid"]), 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True
  return True


def _read(path: str) -> dict | None:
  try:
    with open(path) as f:
      return json.load(f)
  except FileNotFoundError:
    return None
  except (ValueError, OSError):
    return {}                         # being written this instant, or damaged: see _take


def _take(path: str, holder: dict) -> bool:
  try:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
  except FileExistsError:
    return False
  with os.fdopen(fd, "w") as f:
    json.dump(holder, f)
  return True


@contextlib.contextmanager
def folder_lock(folder: str, what: str):
  """Holds `folder` for the block; FolderLocked when a live process holds it."""
  parent, name = os.path.split(os.path.abspath(folder))
  os.makedirs(parent, exist_ok=True)
  path = os.path.join(parent, f".{name}.lock")
  holder = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(sys.argv),
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
  while not _take(path, holder):
    current = _read(path)
    if current is None:
      continue                        # released meanwhile
    if not current:
      try:
        fresh = time.time() - os.path.getmtime(path) < 5
      except FileNotFoundError:
        continue
      if fresh:
        time.sleep(0.1)               # another writer is filling it in
        continue
    if current and _alive(current):
      raise FolderLocked(f"{folder} is in use by another {what}: pid {current['pid']} on {current['host']}, "
                         f"started {current['started']} ({current['command']}); wait for it or stop it")
    with contextlib.suppress(FileNotFoundError):      # a dead holder's lock (or one a rival removed first)
      os.remove(path)
  try:
    yield
  finally:
    if (_read(path) or {}).get("pid") == os.getpid():
      os.remove(path)
