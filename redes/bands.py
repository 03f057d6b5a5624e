"""Spectral band names and the sensor band ids behind them (one table for the whole project)."""

# Project band name -> Sentinel-2 band id and Landsat 8/9 OLI band id.
SENTINEL2_BANDS = {"red": "B04", "green": "B03", "blue": "B02", "nir": "B08"}
LANDSAT8_BANDS = {"red": "B4", "green": "B3", "blue": "B2", "nir": "B5"}
BAND_SETS = {"rgb": ("red", "green", "blue"), "rgbn": ("red", "green", "blue", "nir")}


def parse_band_set(name: str) -> tuple[str, ...]:
  """Band names of a band set ('rgb', 'rgbn') or of a comma-separated list of band names ('red,nir')."""
  if name in BAND_SETS:
    return BAND_SETS[name]
  bands = tuple(b.strip() for b in name.split(","))
  unknown = [b for b in bands if b not in SENTINEL2_BANDS]
  if unknown or len(set(bands)) != len(bands):
    raise ValueError(f"unknown band set {name!r}; expected one of {sorted(BAND_SETS)} or a comma-separated list "
                     f"of distinct bands among {', '.join(SENTINEL2_BANDS)}")
  return bands


def check_band_count(raster: str, count: int, bands, error=ValueError) -> None:
  """Raises `error` naming the raster when it does not have one band per model band."""
  if count != len(bands):
    raise error(f"{raster} has {count} bands; the model expects {len(bands)} ({', '.join(bands)})")
