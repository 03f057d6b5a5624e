"""The rasters dataset of PatchExampleGen (source=rasters): a user's Landsat and Sentinel-2 rasters of one area.

Footprints tile the area both rasters cover (redes.ingest.raster_pairs); their rows, north to south, are split like the
demo scene's: train on top, then eval, then test, so no pixel is shared between splits. Pairs go through the same
resumable cache and valid-fraction counting as the Earth Engine source.
"""
import dataclasses
import hashlib
import json
import os

from redes.ingest import pair_cache
from redes.ingest.patch_grid import split_patch_rows
from redes.ingest.raster_pairs import RasterSource, footprints, read_pair

CONNECTION_KEYS = ("cache_dir",)


@dataclasses.dataclass(frozen=True)
class RasterDataset:
  """The parameters of a raster pair dataset (their defaults: pipeline.configs.RasterConfig and EarthEngineConfig)."""
  landsat: RasterSource
  sentinel2: RasterSource
  patch_size: int
  scaling_factor: int
  sample_size: int                # footprints at most (0: all)
  min_valid_fraction: float
  max_pair_shift: float           # 30 m pixels
  concurrency: int
  seed: int = 0                   # of the sample of footprints

  def params(self) -> dict:
    return dataclasses.asdict(self)

  def cache_name(self) -> str:
    digest = hashlib.sha1(json.dumps(self.params(), sort_keys=True).encode()).hexdigest()[:12]
    return f"rasters-{digest}"


def from_source_config(config: dict, patch_size: int, scaling_factor: int) -> RasterDataset:
  fields = {k: v for k, v in config.items() if k not in CONNECTION_KEYS}
  fields["landsat"] = RasterSource(**{**fields["landsat"], "bands": tuple(fields["landsat"]["bands"])})
  fields["sentinel2"] = RasterSource(**{**fields["sentinel2"], "bands": tuple(fields["sentinel2"]["bands"])})
  return RasterDataset(patch_size=patch_size, scaling_factor=scaling_factor, **fields)


def plan(ds: RasterDataset) -> dict:
  """{split: [Footprint]}; raises ValueError (one line) for unreadable or non-overlapping rasters."""
  found = footprints(ds.landsat, ds.sentinel2, ds.patch_size, ds.scaling_factor, ds.sample_size, ds.seed)
  tops = sorted({f.top for f in found}, reverse=True)
  rows = split_patch_rows(len(tops))
  return {split: [f for f in found if tops.index(f.top) in rows[split]] for split in rows}


def cache_pairs(ds: RasterDataset, planned: dict, cache_root: str) -> dict[str, pair_cache.CachedSplit]:
  """Reads every planned pair into <cache_root>/<cache name>/<split>/ and checks it (pair_cache)."""
  return {split: pair_cache.cache_split(items, lambda f: read_pair(ds.landsat, ds.sentinel2, f),
                                          os.path.join(cache_root, ds.cache_name(), split), ds.min_valid_fraction,
                                          ds.concurrency, f"rasters {split}", ds.scaling_factor, ds.max_pair_shift)
          for split, items in planned.items()}
