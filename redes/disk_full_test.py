import errno

import pytest

from redes import disk_full
from redes.atomic import staged


def _fail_writing(path, err):
  with staged(str(path)) as staging:
    with open(staging, "w") as f:
      f.write("half")
    raise err


def test_a_write_failing_on_a_full_filesystem_names_its_path_and_leaves_no_staging_file(tmp_path, monkeypatch):
  monkeypatch.setattr(disk_full, "FULL_BELOW", 1 << 62)   # every filesystem counts as full
  with pytest.raises(disk_full.DiskFull) as raised:
    _fail_writing(tmp_path / "a" / "tile.png", RuntimeError("TIFFRewriteDirectory:Error fetching directory count"))
  assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(tmp_path / "a" / "tile.png")
  assert isinstance(raised.value.__cause__, RuntimeError)
  assert list((tmp_path / "a").iterdir()) == []


def test_the_same_failure_with_space_left_is_raised_as_it_is(tmp_path, monkeypatch):
  monkeypatch.setattr(disk_full, "FULL_BELOW", 0)
  with pytest.raises(RuntimeError, match="directory count"):
    _fail_writing(tmp_path / "tile.png", RuntimeError("TIFFRewriteDirectory:Error fetching directory count"))
  with pytest.raises(disk_full.DiskFull):          # ENOSPC itself needs no look at the free space
    _fail_writing(tmp_path / "tile.png", OSError(errno.ENOSPC, "No space left on device"))
  with pytest.raises(KeyboardInterrupt):
    _fail_writing(tmp_path / "tile.png", KeyboardInterrupt())
  assert list(tmp_path.iterdir()) == []


def test_find_reads_the_path_from_the_chain_or_a_library_message():
  try:
    try:
      raise disk_full.DiskFull("/data/run/scene.tif")
    except OSError as err:
      raise RuntimeError("TileGen failed") from err
  except RuntimeError as err:
    assert disk_full.find(err) == "/data/run/scene.tif"
  beam = OSError(errno.ENOSPC, "No space left on device")
  assert disk_full.find(RuntimeError(f"{beam} [while running 'WriteSplit[eval]/Write']")) == ""
  assert disk_full.find(beam) == ""
  for full in (disk_full.DiskFull("/data/run/enhanced/scene.tif"), disk_full.DiskFull("/data/a.tif", "9 bytes needed")):
    passed_on = RuntimeError(f"redes.disk_full.DiskFull: {full} [while running 'Enhance']")   # by a Beam worker
    assert disk_full.find(passed_on) == full.filename
  assert disk_full.find(RuntimeError("sqlite3: database or disk is full")) == ""
  assert disk_full.find(ValueError("kernel size 12 is too small")) is None
