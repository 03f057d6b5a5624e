import json
import os
import socket
import subprocess
import sys

import pytest

from redes.lock import FolderLocked, folder_lock


def test_a_folder_has_one_holder_and_a_dead_holders_lock_is_taken_over(tmp_path):
  region = tmp_path / "pensacola"
  lock = tmp_path / ".pensacola.lock"
  sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
  try:
    lock.write_text(json.dumps({"pid": sleeper.pid, "host": socket.gethostname(), "command": "redes tiles --x",
                                "started": "2026-12-01T10:00:00+00:00"}))
    with pytest.raises(FolderLocked, match=f"in use by another redes tiles: pid {sleeper.pid} on .*started "
                                           r"2026-12-01T10:00:00\+00:00 \(redes tiles --x\)"):
      with folder_lock(str(region), "redes tiles"):
        pass
  finally:
    sleeper.kill()
    sleeper.wait()
  with folder_lock(str(region), "redes tiles"):                   # its holder is gone: taken over
    assert json.loads(lock.read_text())["pid"] == os.getpid()
    with pytest.raises(FolderLocked):
      with folder_lock(str(region), "redes tiles"):              # even by the same program twice
        pass
  assert not lock.exists() and not region.exists()


def test_a_lock_of_another_host_is_never_taken_over(tmp_path):
  (tmp_path / ".r.lock").write_text(json.dumps({"pid": 1, "host": "elsewhere", "command": "c", "started": "s"}))
  with pytest.raises(FolderLocked, match="pid 1 on elsewhere"):
    with folder_lock(str(tmp_path / "r"), "redes tiles"):
      pass
