import pytest

from redes.atomic import staged, write_atomically


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
