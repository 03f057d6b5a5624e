import os

import pytest

from redes import cpus


@pytest.mark.parametrize("files, expected", [
    ({"cpu.max": "max 100000\n"}, None),
    ({"cpu.max": "250000 100000\n"}, 2.5),
    ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0.5),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({}, None),
])
def test_the_cgroup_quota_is_read_from_v2_then_v1(files, expected, tmp_path):
  for name, text in files.items():
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(text)
  assert cpus.cgroup_quota(str(tmp_path)) == expected


def test_available_cpus_are_the_affinity_capped_by_the_quota(monkeypatch):
  monkeypatch.setattr(cpus, "cgroup_quota", lambda: 1.5)
  assert cpus.available() == 1
  monkeypatch.setattr(cpus, "cgroup_quota", lambda: None)
  assert cpus.available() == len(os.sched_getaffinity(0))
