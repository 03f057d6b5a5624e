import json
import os
import subprocess
import sys

from redes.heap import TF_POOL

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# In a fresh process, after keep_freed_memory: the share of a 28 MiB block's pages that fault in again each time
# such blocks are allocated, filled and freed, as the enhancement loop does (glibc's default heap: about 0.07-0.2).
_BLOCKS = """
import json, resource, sys
import numpy as np
from redes.heap import keep_freed_memory
kept = keep_freed_memory()
faults = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt
pages = (28 << 20) // resource.getpagesize()
np.ones(7 << 20, np.float32) * 2
before = faults()
for _ in range(20):
  block = np.ones(7 << 20, np.float32)
  copy = block * 2
  del block, copy
print(json.dumps({"kept": kept, "refaulted": (faults() - before) / 20 / (2 * pages)}))
"""


def test_freed_blocks_are_reused_without_faulting_their_pages_in_again():
  out = subprocess.run([sys.executable, "-c", _BLOCKS], check=True, capture_output=True, text=True, cwd=ROOT)
  blocks = json.loads(out.stdout)
  assert blocks["kept"] is True                          # glibc, as on every machine Redes installs on
  assert blocks["refaulted"] < 0.02


# In a fresh process that imports Redes first: page faults per call of a convolution whose output (36 MB) lies above
# glibc's largest mapping threshold, as the generator's activations on a block do (TensorFlow's default CPU
# allocator: 17,700 faults a call here, twice its 8,800 pages; pooled: about 600).
_TENSORS = """
import json, resource
import redes
import tensorflow as tf
x = tf.random.uniform((1, 530, 530, 32))
conv = tf.keras.layers.Conv2D(32, 3, padding="same")
conv(x)
faults = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt
before = faults()
for _ in range(5):
  conv(x).numpy()
print(json.dumps({"faults_per_call": (faults() - before) / 5}))
"""


def test_tensorflow_reuses_its_cpu_memory_from_call_to_call():
  env = {k: v for k, v in os.environ.items() if k != TF_POOL}
  out = subprocess.run([sys.executable, "-c", _TENSORS], check=True, capture_output=True, text=True, cwd=ROOT,
                       env=env)
  pages = 530 * 530 * 32 * 4 // 4096
  assert json.loads(out.stdout.strip().splitlines()[-1])["faults_per_call"] < 0.2 * pages
