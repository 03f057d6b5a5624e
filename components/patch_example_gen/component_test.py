import json

import pytest
from tfx.proto import example_gen_pb2

from components.patch_example_gen.component import PatchExampleGen


def test_three_geographic_splits_as_gzip_tfrecords():
  gen = PatchExampleGen(source="demo", bands="rgb", patch_size=96, scaling_factor=3)
  splits = json.loads(gen.exec_properties["input_config"])["splits"]
  assert [(s["name"], s["pattern"]) for s in splits] == [("train", "train"), ("eval", "eval"), ("test", "test")]
  assert gen.exec_properties["output_file_format"] == example_gen_pb2.FORMAT_TFRECORDS_GZIP
  assert gen.exec_properties["output_data_format"] == example_gen_pb2.FORMAT_TF_EXAMPLE


def test_unknown_source_is_rejected():
  with pytest.raises(ValueError, match="unknown source 'landsat-archive'"):
    PatchExampleGen(source="landsat-archive", bands="rgb", patch_size=96, scaling_factor=3)
