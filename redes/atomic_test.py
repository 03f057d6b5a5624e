import pytest

from redes.atomic import remove_staging_files, staged, staging_name, write_atomically


def test_a_staged_file_replaces_the_old_one_only_when_complete(tmp_path):
  path = tmp_path / "sub" / "result.txt"
  write_atomically(str(path), "old")
  with pytest.raises(RuntimeError):
    with staged(str(path)) as staging, open(staging, "w") as f:
      f.write("half")
      raise RuntimeError("interrupted")
  assert path.read_text() == "old" and sorted(p.name for p in path.parent.iterdir()) == ["result.txt"]
  with staged(str(path), str(tmp_path / "sub" / "result.part.txt")) as staging, open(staging, "w") as f:
    f.write("new")
  assert path.read_text() == "new" and sorted(p.name for p in path.parent.iterdir()) == ["result.txt"]


def test_the_staging_files_stopped_writers_left_are_removed_and_nothing_else(tmp_path):
  left = [staging_name(path, ending) for path, ending in [       # the COG writer's, the video writer's, staged's
      ("enhanced/2019.tif", ".gtiff"), ("enhanced/2019.tif", ".4x.gtiff"), ("enhanced.mp4", ".mp4"),
      ("enhanced/2019/12/1/2.png", "")]] + ["manifest.json.815.part",                   # another process's
                                             "enhanced/2019.tif.815.part.strip3"]      # a publication's marker
  kept = ["enhanced/2019.tif", "enhanced/2019/12/1/2.png", "enhanced.mp4", "notes.part.txt", "v2.part", "a.12.txt"]
  for name in left + kept:
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text("x")
  assert remove_staging_files(str(tmp_path)) == len(left)
  assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == sorted(kept)
