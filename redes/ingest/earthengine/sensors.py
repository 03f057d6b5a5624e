"""Earth Engine collections Redes reads, their bands, cloud masks, reflectance scaling and years of service.

- Landsat Collection 2 Level-2 surface reflectance (Landsat 4, 5, 7, 8, 9): reflectance = DN * 0.0000275 - 0.2;
  pixels flagged in QA_PIXEL as fill (bit 0), dilated cloud (1), cloud (3), cloud shadow (4) or snow (5) are masked
  (Landsat 7 SLC-off gaps are fill, so they are masked too).
- Sentinel-2 surface reflectance, harmonized (COPERNICUS/S2_SR_HARMONIZED): reflectance = DN / 10000; only pixels
  whose scene classification (SCL) is vegetation (4), bare soil (5), water (6) or unclassified (7) are kept, so
  no-data, saturated, dark, cloud shadow, cloud, cirrus and snow pixels are masked.
"""
import dataclasses
import datetime

LANDSAT_QA_MASK_BITS = (0, 1, 3, 4, 5)
SENTINEL2_CLEAR_SCL = (4, 5, 6, 7)
_TM_ETM = {"red": "SR_B3", "green": "SR_B2", "blue": "SR_B1", "nir": "SR_B4"}
_OLI = {"red": "SR_B4", "green": "SR_B3", "blue": "SR_B2", "nir": "SR_B5"}
_MSI = {"red": "B4", "green": "B3", "blue": "B2", "nir": "B8"}


@dataclasses.dataclass(frozen=True)
class Sensor:
  slug: str
  collection: str
  bands: dict            # project band name -> collection band id
  first_day: str         # first day of imagery in the collection
  last_day: str | None   # last day, None while in service
  resolution: float      # native pixel size, metres
  dn_scale: float        # reflectance = DN * dn_scale + dn_offset
  dn_offset: float
  kind: str              # "landsat" or "sentinel2"

  def covers(self, start: datetime.date, end: datetime.date) -> bool:
    first = datetime.date.fromisoformat(self.first_day)
    last = datetime.date.fromisoformat(self.last_day) if self.last_day else datetime.date.max
    return start <= last and end >= first


COLLECTIONS = {s.slug: s for s in [
    Sensor("landsat4", "LANDSAT/LT04/C02/T1_L2", _TM_ETM, "1982-08-22", "1993-12-14", 30.0, 2.75e-05, -0.2, "landsat"),
    Sensor("landsat5", "LANDSAT/LT05/C02/T1_L2", _TM_ETM, "1984-03-16", "2012-05-05", 30.0, 2.75e-05, -0.2, "landsat"),
    Sensor("landsat7", "LANDSAT/LE07/C02/T1_L2", _TM_ETM, "1999-05-28", None, 30.0, 2.75e-05, -0.2, "landsat"),
    Sensor("landsat8", "LANDSAT/LC08/C02/T1_L2", _OLI, "2013-03-18", None, 30.0, 2.75e-05, -0.2, "landsat"),
    Sensor("landsat9", "LANDSAT/LC09/C02/T1_L2", _OLI, "2021-10-31", None, 30.0, 2.75e-05, -0.2, "landsat"),
    Sensor("sentinel2", "COPERNICUS/S2_SR_HARMONIZED", _MSI, "2017-03-28", None, 10.0, 1e-4, 0.0, "sentinel2"),
]}


def sensor(slug: str) -> Sensor:
  try:
    return COLLECTIONS[slug]
  except KeyError:
    raise ValueError(f"unknown slug {slug!r}; expected one of {', '.join(COLLECTIONS)}") from None


def _reflectance(ee, image, sensor_: Sensor, bands):
  """Selected bands renamed to the project's names, scaled to reflectance, cloud-masked."""
  selected = image.select([sensor_.bands[b] for b in bands], list(bands))
  reflectance = selected.multiply(sensor_.dn_scale).add(sensor_.dn_offset)
  if sensor_.kind == "landsat":
    qa_bits = sum(1 << bit for bit in LANDSAT_QA_MASK_BITS)
    clear = image.select("QA_PIXEL").bitwiseAnd(qa_bits).eq(0)
  else:
    scl = image.select("SCL")
    clear = scl.eq(SENTINEL2_CLEAR_SCL[0])
    for value in SENTINEL2_CLEAR_SCL[1:]:
      clear = clear.Or(scl.eq(value))
  return reflectance.updateMask(clear)


COMPOSITE_RULES = ("median", "mean")


def masked_collection(sensor_: Sensor, bands, start: str, end: str, region=None):
  """The period's images (end date exclusive) as cloud-masked reflectance in the project's band names."""
  # pylint: disable-next=import-outside-toplevel  (only Earth Engine runs need ee, which takes over a second to import)
  import ee
  collection = ee.ImageCollection(sensor_.collection).filterDate(start, end)
  if region is not None:
    collection = collection.filterBounds(region)
  return collection.map(lambda image: _reflectance(ee, image, sensor_, bands))


def composite(sensor_: Sensor, bands, start: str, end: str, region=None, rule: str = "median"):
  """One image: the per-pixel `rule` over the period's cloud-masked reflectance (end date exclusive)."""
  if rule not in COMPOSITE_RULES:
    raise ValueError(f"unknown compositing rule {rule!r}; expected one of {', '.join(COMPOSITE_RULES)}")
  return getattr(masked_collection(sensor_, bands, start, end, region), rule)()
