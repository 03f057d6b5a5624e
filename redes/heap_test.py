import json
import os
import subprocess
import sys

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
