"""The resumable cache of patch pairs between a remote or raster source and PatchExampleGen.

Pairs are fetched by a bounded pool of threads; each finished pair is written to `<cache_dir>/<patch id>.npz`
under a temporary name and renamed, so an interrupted run resumes with what is there and writes each patch once.
Then each split's pairs are counted: kept when valid enough and registered closely enough
(redes.ingest.pair_registration), rejected (and counted by reason) otherwise; the shifts of the kept pairs are
summarised. A split's outcome is a CachedSplit, which PatchExampleGen's Beam transform reads its pairs from and
records in dataset_params.json.
"""
import dataclasses
import logging
import os
from concurrent import futures

import numpy as np
from tqdm import tqdm

from redes.atomic import staged

REJECT_NODATA = "valid_fraction_below_threshold"
REJECT_SHIFT = "shift_above_threshold"


@dataclasses.dataclass(frozen=True)
class CachedSplit:
  """One split's pairs in the cache, after the checks."""
  cache_dir: str
  kept: tuple                # the Footprints of the pairs that become examples
  footprints: int            # planned
  fetched: int               # by this run
  cached: int                # already there
  rejected: dict             # reason (REJECT_NODATA, REJECT_SHIFT) -> pairs
  shift_lr_pixels: dict      # the kept pairs' shifts (pair_registration.shift_summary)

  @property
  def examples(self) -> int:
    return len(self.kept)

  def counts(self) -> dict:
    """What dataset_params.json records of the split."""
    return {"footprints": self.footprints, "fetched": self.fetched, "cached": self.cached,
            "examples": self.examples, "rejected": dict(self.rejected), "shift_lr_pixels": self.shift_lr_pixels}


def cache_path(cache_dir: str, footprint) -> str:
  return os.path.join(cache_dir, f"{footprint.patch_id}.npz")


def fetch_pairs(footprints, fetch_pair, cache_dir: str, concurrency: int = 8, desc: str = "patches") -> dict:
  """Fetches (lr, hr) = fetch_pair(footprint) for every footprint not yet in cache_dir, `concurrency` at a time.

  Returns {"fetched": n, "cached": n}. The first failure stops the run (what finished stays cached).
  """
  os.makedirs(cache_dir, exist_ok=True)
  todo = [f for f in footprints if not os.path.exists(cache_path(cache_dir, f))]
  done = {"fetched": 0, "cached": len(footprints) - len(todo)}

  def fetch_and_store(footprint):
    lr, hr = fetch_pair(footprint)
    path = cache_path(cache_dir, footprint)
    with staged(path) as staging, open(staging, "wb") as f:
      np.savez(f, lr=lr, hr=hr)

  with futures.ThreadPoolExecutor(max_workers=concurrency) as pool, \
      tqdm(total=len(todo), desc=desc, unit="patch", leave=False, disable=None) as progress:
    pending = {pool.submit(fetch_and_store, f) for f in todo}
    try:
      for finished in futures.as_completed(pending):
        finished.result()
        done["fetched"] += 1
        progress.update()
    except BaseException:
      for future in pending:
        future.cancel()
      raise
  logging.info("%s: %d fetched, %d already cached in %s", desc, done["fetched"], done["cached"], cache_dir)
  return done


def load_pair(cache_dir: str, footprint) -> tuple[np.ndarray, np.ndarray]:
  with np.load(cache_path(cache_dir, footprint)) as data:
    return data["lr"], data["hr"]


def valid_fraction(pixels: np.ndarray) -> float:
  """Share of pixels valid (finite) in every band."""
  return float(np.isfinite(pixels).all(axis=-1).mean())


def cache_split(footprints, fetch_pair, cache_dir: str, min_valid_fraction: float, concurrency: int,
                  desc: str, scale: int, max_shift: float) -> CachedSplit:
  """Fetches a split's pairs into the cache and keeps those valid enough and shifted by at most max_shift 30 m
  pixels."""
  # pylint: disable-next=import-outside-toplevel  (TensorFlow, slow; the flags import this module's importers)
  from redes.ingest.pair_registration import pair_shift, shift_summary
  done = fetch_pairs(footprints, fetch_pair, cache_dir, concurrency, desc)
  kept, shifts, rejected = [], [], {REJECT_NODATA: 0, REJECT_SHIFT: 0}
  for footprint in footprints:
    lr, hr = load_pair(cache_dir, footprint)
    if min(valid_fraction(lr), valid_fraction(hr)) < min_valid_fraction:
      rejected[REJECT_NODATA] += 1
      continue
    shift = pair_shift(lr, hr, scale)
    if float(np.hypot(*shift)) > max_shift:
      rejected[REJECT_SHIFT] += 1
      continue
    kept.append(footprint)
    shifts.append(shift)
  logging.info("%s: %d footprints, %d kept, %d rejected with a valid fraction below %.2f, %d shifted by more than "
               "%.2f pixels", desc, len(footprints), len(kept), rejected[REJECT_NODATA], min_valid_fraction,
               rejected[REJECT_SHIFT], max_shift)
  return CachedSplit(cache_dir, tuple(kept), len(footprints), done["fetched"], done["cached"], rejected,
                     shift_summary(shifts))
