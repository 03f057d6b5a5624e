"""Spectral band names and the sensor band ids behind them (one table for the whole project)."""

# Project band name -> Sentinel-2 band id and Landsat 8/9 OLI band id.
SENTINEL2_BANDS = {"red": "B04", "green": "B03", "blue": "B02", "nir": "B08"}
LANDSAT8_BANDS = {"red": "B4", "green": "B3", "blue": "B2", "nir": "B5"}
BAND_SETS = {"rgb": ("red", "green", "blue"), "rgbn": ("red", "green", "blue", "nir")}


def parse_band_set(name: str) -> tuple[str, ...]:
  """Returns the band names of a band set name such as 'rgb' or 'rgbn'."""
  try:
    return BAND_SETS[name]
  except KeyError:
    raise ValueError(f"unknown band set {name!r}; expected one of {sorted(BAND_SETS)}") from None
