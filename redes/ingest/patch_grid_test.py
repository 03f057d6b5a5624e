from shapely.geometry import box

from redes.ingest.patch_grid import layout, to_utm, utm_epsg


def test_utm_zones():
  assert utm_epsg(-75.6, 37.7) == 32618
  assert utm_epsg(17.7, -14.66) == 32733   # Menongue, Angola
  assert utm_epsg(179.99, 10) == 32660


def test_footprints_lie_inside_on_the_30m_grid_without_overlap():
  polygon = box(-75.70, 37.66, -75.65, 37.70)   # about 4.4 km x 4.4 km
  footprints = layout(polygon, 96, 3)
  assert len(footprints) == 16                  # 4 x 4 squares of 960 m fit
  local = to_utm(polygon, 32618)
  for f in footprints:
    assert f.epsg == 32618 and f.left % 960 == 0 and f.top % 960 == 0
    assert local.contains(box(f.left, f.top - 960, f.left + 960, f.top))
    assert f.transform(30.0).a == 30.0 and f.pixels(30.0) == 32 and f.pixels(10.0) == 96
    assert f.transform(10.0) @ (96, 96) == f.transform(30.0) @ (32, 32)   # same footprint, both grids
  assert len({f.patch_id for f in footprints}) == 16
  lon, lat = footprints[0].center_lonlat()
  assert -75.70 < lon < -75.65 and 37.66 < lat < 37.70


def test_sample_size_is_a_seeded_subset():
  polygon = box(-75.70, 37.66, -75.65, 37.70)
  every = layout(polygon, 96, 3)
  sample = layout(polygon, 96, 3, sample_size=5, seed=1)
  assert len(sample) == 5 and set(sample) <= set(every)
  assert sample == layout(polygon, 96, 3, sample_size=5, seed=1)
  assert layout(box(-75.70, 37.66, -75.695, 37.665), 96, 3) == []   # smaller than one patch
