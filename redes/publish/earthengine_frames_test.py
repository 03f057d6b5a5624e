"""Yearly Earth Engine frames through `redes tiles`: the real ee client against the loopback fake, which serves the
demo scene's reflectance averaged onto the requested 30 m grids."""
import json

import numpy as np
import pytest
import rasterio

from pipeline import cli
from redes.ingest.earthengine.transfer import NODATA
from redes.publish.cog import read_values
from redes.publish.earthengine_frames import CHUNK, year_window
from redes.publish.tiles import tiles_for

REGION = (-75.70, 37.62, -75.55, 37.70)     # on the demo Sentinel-2 scene (EPSG:32618)


@pytest.mark.parametrize("year, instrument, expected", [
    (1990, "landsat", ("1987-01-01", "1991-01-01", ["landsat4", "landsat5"])),
    (2012, "landsat", ("2009-01-01", "2013-01-01", ["landsat5", "landsat7"])),   # TM/ETM+ window up to 2012
    (2013, "landsat", ("2013-01-01", "2014-01-01", ["landsat8"])),
    (2023, "landsat", ("2023-01-01", "2024-01-01", ["landsat8", "landsat9"])),
    (2005, "landsat7", ("2002-01-01", "2006-01-01", ["landsat7"])),
    (2015, "landsat7", ("2015-01-01", "2016-01-01", ["landsat7"])),
    (1983, "landsat8", ("1983-01-01", "1984-01-01", [])),
])
def test_year_windows_follow_the_original(year, instrument, expected):
  start, end, in_service = year_window(year, instrument)
  assert (start, end, [s.slug for s in in_service]) == expected


def test_tiles_from_earthengine_years_skip_years_without_imagery(earthengine, bicubic_model_dir, tmp_path, capsys):
  west, south, east, north = REGION
  geometry = tmp_path / "region.geojson"
  geometry.write_text(json.dumps({"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north],
                                                                        [west, north], [west, south]]]}))
  demo_pixels = earthengine.pixels

  def pixels(body):                           # 2017 is cloudy all year: every pixel masked
    text = json.dumps(body["expression"])
    if '"2017-01-01"' in text and '"2018-01-01"' in text:
      grid = body["grid"]["dimensions"]
      return np.full((grid["height"], grid["width"], len(body["bandIds"])), NODATA, np.float32)
    return demo_pixels(body)
  earthengine.pixels = pixels
  code = cli.main(["tiles", "--model", bicubic_model_dir, "--folder-path", str(tmp_path / "out"),
                   "--region-name", "chincoteague", "--start-year", "2012", "--stop-year", "2018",
                   "--instrument", "landsat8", "--geometry", str(geometry), "--ee-url", earthengine.url,
                   "--min-z", "12", "--max-z", "12"])
  assert code == 0
  captured = capsys.readouterr()
  assert "skipped 2012: no landsat8 sensor in service from 2012-01-01" in captured.err
  assert "skipped 2017: no clear landsat8 pixel from 2017-01-01 to 2018-01-01" in captured.err
  region = tmp_path / "out" / "chincoteague"
  years = ["2013", "2014", "2015", "2016", "2018"]
  assert sorted(p.stem for p in (region / "original").glob("*.tif")) == years
  requests = earthengine.calls("/image:computePixels")
  assert len(requests) == 6                                            # one chunk per year fetched, 2012 never
  grid = requests[0]["grid"]
  assert grid["crsCode"] == "EPSG:32618" and grid["affineTransform"]["scaleX"] == 30.0
  assert grid["affineTransform"]["translateX"] % 30 == 0 and grid["affineTransform"]["translateY"] % 30 == 0
  assert max(grid["dimensions"].values()) <= CHUNK
  text = json.dumps(requests[0]["expression"])
  assert "LANDSAT/LC08/C02/T1_L2" in text and "2013-01-01" in text and "2014-01-01" in text
  with rasterio.open(region / "original" / "2013.tif") as frame:
    assert frame.crs.to_epsg() == 32618 and frame.res == (30.0, 30.0)
    data = read_values(frame)
    assert np.isfinite(data).mean() > 0.95 and 0.0 < float(np.nanmean(data)) < 0.3
  config = json.loads((region / "index.html").read_text().split("const CONFIG = ")[1].split(";\n")[0])
  assert config["frames"] == years
  assert len(list((region / "enhanced" / "animated").rglob("*.png"))) == len(tiles_for(config["bounds"], 12, 12))


def test_earthengine_frames_need_a_geometry_and_credentials(bicubic_model_dir, tmp_path, capsys, monkeypatch):
  base = ["tiles", "--model", bicubic_model_dir, "--folder-path", str(tmp_path), "--start-year", "2015"]
  with pytest.raises(SystemExit):
    cli.main(base)
  assert "argument --geometry: Earth Engine frames (--start-year) need a GeoJSON" in capsys.readouterr().err
  monkeypatch.delenv("EE_PRIVATE_KEY", raising=False)
  monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
  geometry = tmp_path / "r.geojson"
  geometry.write_text(json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}))
  with pytest.raises(SystemExit):
    cli.main([*base, "--geometry", str(geometry)])
  assert "no Earth Engine credentials" in capsys.readouterr().err
  with pytest.raises(SystemExit):
    cli.main([*base, "--geometry", str(geometry), "--stop-year", "2010"])
  assert "argument --stop-year: 2010 is before --start-year 2015" in capsys.readouterr().err
