"""The Earth Engine dataset of PatchExampleGen (source=earthengine): parameters, checks, planning, download.

`plan()` checks every parameter and region file and lays out the footprints of each split before any request;
`download()` fetches the LR (Landsat composite at scale x scaling_factor metres) and HR (Sentinel-2 composite at
`scale` metres) pixels of every footprint into a resumable cache and counts what is kept and what is rejected.
"""
import dataclasses
import datetime
import os
import re

from redes.bands import parse_band_set
from redes.features import SPLITS
from redes.ingest import pair_cache, patch_grid, regions
from redes.ingest.earthengine import export, sensors, transfer
from redes.ingest.raster_pairs import read_pair

MODES = ("pixels", "export")


class DatasetError(ValueError):
  """A parameter or region file that cannot be used; the message names the value and what is expected."""


@dataclasses.dataclass(frozen=True)
class EarthEngineDataset:
  """The parameters of an Earth Engine dataset (their defaults: pipeline.configs.EarthEngineConfig)."""
  geojsons: dict                      # split -> region file (GeoJSON of polygons)
  dataset_name: str
  slugs: tuple                        # input sensor, target sensor
  init_date: str
  end_date: str                       # inclusive
  bands: str
  pixel_size_m: float                 # target pixel size (the original's `scale`)
  scaling_factor: int
  sample_size: int                    # patches per polygon, at most
  patch_size: int                    # target patch side, pixels
  composite: str
  min_valid_fraction: float
  max_pair_shift: float               # 30 m pixels
  concurrency: int
  mode: str                           # pixels: computePixels per patch; export: Export tasks to Cloud Storage
  bucket: str                         # Cloud Storage bucket of mode "export"
  seed: int = 0                       # of the sample of footprints per polygon

  @property
  def band_names(self) -> tuple[str, ...]:
    return parse_band_set(self.bands)

  def params(self) -> dict:
    return {**dataclasses.asdict(self), "slugs": list(self.slugs), "bands": list(self.band_names)}


CONNECTION_KEYS = ("url", "cache_dir")   # keys of a source config that are not dataset parameters


def from_source_config(source_config: dict, bands: str, patch_size: int, scaling_factor: int,
                       today: datetime.date | None = None) -> EarthEngineDataset:
  """The dataset of PatchExampleGen's source_config (JSON object of EarthEngineDataset fields, url, cache_dir), with
  relative dates resolved against `today` (default: the day it runs)."""
  fields = {k: tuple(v) if k == "slugs" else v for k, v in source_config.items() if k not in CONNECTION_KEYS}
  fields["end_date"], fields["init_date"] = resolve_window(fields["init_date"], fields["end_date"],
                                                           today or datetime.date.today())
  return EarthEngineDataset(bands=bands, patch_size=patch_size, scaling_factor=scaling_factor, **fields)


def resolve_window(init_date: str, end_date: str, today: datetime.date) -> tuple[str, str]:
  """(end, init) as YYYY-MM-DD: end_date "today" is the run's date and init_date "-<N>d" is N days before the end,
  so that a scheduled run ingests the latest window; other values are kept as they are."""
  end = today.isoformat() if end_date == "today" else end_date
  match = re.fullmatch(r"-(\d+)d", init_date)
  if match:
    init_date = (_date(end, "end_date") - datetime.timedelta(days=int(match.group(1)))).isoformat()
  return end, init_date


def _date(text: str, name: str) -> datetime.date:
  try:
    return datetime.date.fromisoformat(text)
  except ValueError:
    raise DatasetError(f"{name} {text!r} is not a date (expected YYYY-MM-DD; end_date may be 'today' and "
                       "init_date '-<days>d')") from None


def check(ds: EarthEngineDataset) -> None:
  """Rejects bad parameters (all but the region files) with one line each."""
  if ds.patch_size % ds.scaling_factor:
    raise DatasetError(f"patch_size {ds.patch_size} is not divisible by the scaling factor {ds.scaling_factor}")
  start, end = _date(ds.init_date, "init_date"), _date(ds.end_date, "end_date")
  if end < start:
    raise DatasetError(f"end_date {ds.end_date} is before init_date {ds.init_date}")
  if start > datetime.date.today():
    raise DatasetError(f"period {ds.init_date}..{ds.end_date} starts after today ({datetime.date.today()}); "
                       "expected a window with imagery")
  if len(ds.slugs) != 2:
    raise DatasetError(f"slugs {list(ds.slugs)} must be two: the input sensor and the target sensor")
  try:
    chosen = [sensors.sensor(slug) for slug in ds.slugs]
    ds.band_names  # pylint: disable=pointless-statement  (raises on unknown bands)
  except ValueError as err:
    raise DatasetError(str(err)) from None
  if chosen[1].kind != "sentinel2" or chosen[0].kind != "landsat":
    raise DatasetError(f"slugs {list(ds.slugs)}: expected a Landsat input and a Sentinel-2 target")
  for s in chosen:
    if not s.covers(start, end):
      raise DatasetError(f"period {ds.init_date}..{ds.end_date} is outside the life of {s.slug} "
                         f"({s.first_day}..{s.last_day or 'today'})")
  if ds.composite not in sensors.COMPOSITE_RULES:
    raise DatasetError(f"composite {ds.composite!r} is not one of {', '.join(sensors.COMPOSITE_RULES)}")
  if set(ds.geojsons) != set(SPLITS):
    raise DatasetError(f"geojsons name the splits {sorted(ds.geojsons)}; expected one region file for each of "
                       f"{', '.join(SPLITS)}")
  for name in ("sample_size", "concurrency"):
    if getattr(ds, name) < 1:
      raise DatasetError(f"{name} {getattr(ds, name)} is not a positive integer")
  if ds.mode not in MODES:
    raise DatasetError(f"mode {ds.mode!r} is not one of {', '.join(MODES)}")
  if ds.mode == "export" and not ds.bucket:
    raise DatasetError("mode 'export' needs a Cloud Storage bucket (--ee-bucket)")
  if not 0.0 < ds.min_valid_fraction <= 1.0:
    raise DatasetError(f"min_valid_fraction {ds.min_valid_fraction} is not in (0, 1]")


def plan(ds: EarthEngineDataset) -> dict:
  """{split: [(polygon index, Footprint), ...]} after every check; no request is made."""
  check(ds)
  planned = {}
  for split in SPLITS:
    polygons = regions.read_polygons(ds.geojsons[split])
    planned[split] = []
    for i, polygon in enumerate(polygons):
      footprints = patch_grid.layout(polygon, ds.patch_size, ds.scaling_factor, ds.sample_size, ds.seed,
                                     hr_resolution=ds.pixel_size_m)
      if not footprints:
        size = ds.patch_size * ds.pixel_size_m
        raise DatasetError(f"{ds.geojsons[split]}: polygon {i} holds no whole patch of {size:g} m x {size:g} m")
      planned[split].extend((i, f) for f in footprints)
  return planned


def ee_geometry(polygons):
  """The Earth Engine geometry of WGS84 shapely polygons: a Polygon for one, a MultiPolygon for several."""
  # pylint: disable-next=import-outside-toplevel  (only Earth Engine runs need ee, which takes over a second to import)
  import ee
  rings = [[list(map(list, polygon.exterior.coords))] for polygon in polygons]
  return ee.Geometry.Polygon(rings[0]) if len(rings) == 1 else ee.Geometry.MultiPolygon(rings)


def _composites(ds: EarthEngineDataset, planned: dict) -> dict:
  """{(split, polygon index): (input composite, target composite)} restricted to each polygon."""
  low, high = (sensors.sensor(s) for s in ds.slugs)
  end = _day_after(ds.end_date)
  composites = {}
  for split, items in planned.items():
    polygons = regions.read_polygons(ds.geojsons[split])
    for i in sorted({i for i, _ in items}):
      region = ee_geometry([polygons[i]])
      composites[(split, i)] = tuple(sensors.composite(s, ds.band_names, ds.init_date, end, region, ds.composite)
                                     for s in (low, high))
  return composites


def download(ds: EarthEngineDataset, planned: dict, cache_root: str,
             poll_seconds: float = 30.0) -> dict[str, pair_cache.CachedSplit]:
  """Fetches every planned footprint into <cache_root>/<dataset_name>/<split>/ and decides what to keep.

  mode "pixels": one computePixels request per patch and resolution; mode "export": Export tasks write each
  polygon's composites to gs://<bucket>/ and the patches are cut from those rasters.
  Returns {split: pair_cache.CachedSplit}.
  """
  composites = _composites(ds, planned)
  polygon_of = {(split, f.patch_id): i for split, items in planned.items() for i, f in items}
  if ds.mode == "export":
    jobs = export.start(ds, planned, composites, ds.bucket, os.path.join(cache_root, ds.dataset_name))
    export.wait(jobs, poll_seconds)
    sources = export.raster_sources(jobs, len(ds.band_names))
  counts = {}
  for split, items in planned.items():

    def fetch_pair(footprint, split=split):
      key = (split, polygon_of[(split, footprint.patch_id)])
      if ds.mode == "export":
        return read_pair(*sources[key], footprint)
      lr_image, hr_image = composites[key]
      return (transfer.fetch_pixels(lr_image, footprint, ds.pixel_size_m * ds.scaling_factor, ds.band_names),
              transfer.fetch_pixels(hr_image, footprint, ds.pixel_size_m, ds.band_names))

    cache_dir = os.path.join(cache_root, ds.dataset_name, split)
    counts[split] = pair_cache.cache_split([f for _, f in items], fetch_pair, cache_dir, ds.min_valid_fraction,
                                             ds.concurrency, f"Earth Engine {split}", ds.scaling_factor,
                                             ds.max_pair_shift)
  return counts


def _day_after(day: str) -> str:
  return (datetime.date.fromisoformat(day) + datetime.timedelta(days=1)).isoformat()
