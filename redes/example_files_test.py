import json

import pytest

from redes import example_files
from redes.example_files import DATASET_PARAMS_FILE, DamagedExamples


@pytest.fixture
def examples(tmp_path):
  for split in ("train", "eval"):
    (tmp_path / f"Split-{split}").mkdir()
    (tmp_path / f"Split-{split}" / "data_tfrecord-00000-of-00001.gz").write_bytes(split.encode() * 1000)
  files = example_files.fingerprint(str(tmp_path))
  (tmp_path / DATASET_PARAMS_FILE).write_text(json.dumps({"source": "demo", "files": files}))
  return tmp_path


def test_the_fingerprint_holds_each_files_size_and_digest(examples):
  files = json.loads((examples / DATASET_PARAMS_FILE).read_text())["files"]
  assert sorted(files) == ["Split-eval/data_tfrecord-00000-of-00001.gz", "Split-train/data_tfrecord-00000-of-00001.gz"]
  assert files["Split-train/data_tfrecord-00000-of-00001.gz"]["bytes"] == 5000
  assert len(files["Split-eval/data_tfrecord-00000-of-00001.gz"]["sha256"]) == 64
  example_files.verify(str(examples), ["train", "eval"], "Trainer")         # intact: no error


@pytest.mark.parametrize("damage, problem", [
    (lambda f: f.write_bytes(f.read_bytes()[:4000]), "has 4000 bytes where PatchExampleGen wrote 5000"),
    (lambda f: f.write_bytes(b"X" + f.read_bytes()[1:]), "does not hold the bytes PatchExampleGen wrote"),
    (lambda f: f.unlink(), "is missing"),
])
def test_damage_is_named_with_its_split_file_and_remedy(examples, damage, problem):
  damaged = examples / "Split-train" / "data_tfrecord-00000-of-00001.gz"
  damage(damaged)
  example_files.verify(str(examples), ["eval"], "ImageEvaluator")           # another split is not read
  with pytest.raises(DamagedExamples) as err:
    example_files.verify(str(examples), ["train", "eval"], "Trainer")
  message = str(err.value)
  assert message.startswith(f"Trainer: the train examples of PatchExampleGen are damaged: {damaged} {problem}")
  assert "--rebuild PatchExampleGen" in message and "\n" not in message


def test_examples_without_a_fingerprint_are_read_unchecked(tmp_path):
  (tmp_path / DATASET_PARAMS_FILE).write_text(json.dumps({"source": "demo"}))
  example_files.verify(str(tmp_path), ["train"], "Trainer")
  assert example_files.examples_root(str(tmp_path / "Split-train" / "*")) == str(tmp_path)
