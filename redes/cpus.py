"""The CPUs this process may use: how many worker processes the publishing pipeline starts by default
(redes.publish.publishing_pipeline)."""
import math
import os

CGROUP = "/sys/fs/cgroup"


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
