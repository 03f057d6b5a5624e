"""The fingerprint of PatchExampleGen's output, so that damage is found before a long training: PatchExampleGen
records each example file's size and SHA-256 in its `dataset_params.json` (`files`), and every reader (the Trainer,
ImageEvaluator, ComparisonFigure) checks the files it is about to read against it. A damaged or missing file is
reported in one line naming the split and the file, and how to rebuild the examples.

Paths may be local or gs:// (tf.io.gfile).
"""
import hashlib
import json
import os

import tensorflow as tf

DATASET_PARAMS_FILE = "dataset_params.json"
REBUILD_HINT = "rebuild them with `local_runner.py --rebuild PatchExampleGen` (or delete the output folder)"
_CHUNK = 1 << 22


class DamagedExamples(ValueError):
  """An example file that is not what PatchExampleGen wrote; the message names it and what to do."""


def _sha256(path: str) -> str:
  sha = hashlib.sha256()
  with tf.io.gfile.GFile(path, "rb") as f:
    while chunk := f.read(_CHUNK):
      sha.update(chunk)
  return sha.hexdigest()


def fingerprint(examples_uri: str) -> dict:
  """{path relative to examples_uri: {"bytes", "sha256"}} of every file in its Split-* folders."""
  files = {}
  for split_dir in sorted(tf.io.gfile.glob(os.path.join(examples_uri, "Split-*"))):
    for name in sorted(tf.io.gfile.listdir(split_dir)):
      path = os.path.join(split_dir, name)
      files[os.path.relpath(path, examples_uri)] = {"bytes": tf.io.gfile.stat(path).length, "sha256": _sha256(path)}
  return files


def verify(examples_uri: str, splits, reader: str) -> None:
  """Checks the files of `splits` against PatchExampleGen's fingerprint; DamagedExamples on the first difference.
  Examples written before fingerprints were recorded pass unchecked."""
  params_path = os.path.join(examples_uri, DATASET_PARAMS_FILE)
  recorded = {}
  if tf.io.gfile.exists(params_path):
    with tf.io.gfile.GFile(params_path) as f:
      recorded = json.loads(f.read()).get("files", {})
  for relative, expected in sorted(recorded.items()):
    split = relative.split(os.sep)[0].removeprefix("Split-")
    if split not in splits:
      continue
    path = os.path.join(examples_uri, relative)
    size = tf.io.gfile.stat(path).length if tf.io.gfile.exists(path) else None
    if size is None:
      problem = "is missing"
    elif size != expected["bytes"]:
      problem = f"has {size} bytes where PatchExampleGen wrote {expected['bytes']}"
    elif _sha256(path) != expected["sha256"]:
      problem = "does not hold the bytes PatchExampleGen wrote (its SHA-256 differs)"
    else:
      continue
    raise DamagedExamples(f"{reader}: the {split} examples of PatchExampleGen are damaged: {path} {problem}; "
                          f"{REBUILD_HINT}")


def examples_root(file_pattern: str) -> str:
  """The examples artifact of a split's file pattern (`<uri>/Split-<split>/*`)."""
  return os.path.dirname(os.path.dirname(file_pattern))
