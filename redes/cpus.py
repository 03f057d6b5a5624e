"""The CPUs this process may use, and work shared over processes: the tile pyramids of redes.publish.tiles run
their metatiles through map_in_processes."""
import atexit
import concurrent.futures
import math
import multiprocessing
import os

CGROUP = "/sys/fs/cgroup"
_POOLS: dict[int, concurrent.futures.ProcessPoolExecutor] = {}


def cgroup_quota(root: str = CGROUP) -> float | None:
  """CPUs the cgroup's quota allows (a Kubernetes CPU limit; cgroup v2, else v1), None without one."""
  for quota_file, period_file in ((f"{root}/cpu.max", None),
                                  (f"{root}/cpu/cpu.cfs_quota_us", f"{root}/cpu/cpu.cfs_period_us")):
    try:
      with open(quota_file, encoding="ascii") as f:
        fields = f.read().split()
      if period_file:
        with open(period_file, encoding="ascii") as f:
          fields.append(f.read().strip())
    except OSError:
      continue
    if fields[0] not in ("max", "-1"):
      return int(fields[0]) / int(fields[1])
    return None
  return None


def available() -> int:
  """The CPUs this process may run on (its affinity), no more than its cgroup's quota; at least 1."""
  count = len(os.sched_getaffinity(0))
  quota = cgroup_quota()
  return max(1, min(count, math.floor(quota)) if quota else count)


def _pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
  """One pool of `workers` processes for the life of this process (started fresh, never forked from it, so that
  the threads of TensorFlow or GDAL are not copied in a state they cannot continue from)."""
  if workers not in _POOLS:
    _POOLS[workers] = concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    atexit.register(_POOLS[workers].shutdown, cancel_futures=True)
  return _POOLS[workers]


def map_in_processes(function, items: list, workers: int):
  """function(item) for each item, in order, over `workers` processes (never this one: its GDAL block cache and
  threads stay its own)."""
  return _pool(workers).map(function, items)
