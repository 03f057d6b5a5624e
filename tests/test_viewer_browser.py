"""The published viewer in headless Chromium (Debian's chromium and chromium-driver, driven by Selenium): the page
loads, every tile it asks for exists, the year slider and play change the frame, the swipe clips the enhanced
layer, the download links follow the year and serve its COGs, the pointer's coordinates and a scale bar show, the
uncertainty checkbox shows its overlay, and the screenshot's histogram shows the region's stretch (a bright,
contrasted image rather than the dark, hazy one a fixed 0..0.3 stretch draws). A screenshot is saved as viewer.png in
the test's folder."""
import functools
import http.server
import time

import numpy as np
import pytest
from PIL import Image

from redes.publish.timeseries_test import (  # noqa: F401  (pytest fixtures)
    directional_model_dir, published, published_with_uncertainty, yearly_rasters)
from tests.fakes.loopback import LoopbackServer

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


class StaticSite(LoopbackServer):
  """Serves a folder on 127.0.0.1 and records every path that was not found."""

  def __init__(self, root):
    self.root, self.missing, self.served = str(root), [], []
    super().__init__()

  def _handler(self):
    site = self

    class Handler(http.server.SimpleHTTPRequestHandler):
      def log_message(self, *args):  # pylint: disable=arguments-differ
        pass

      def send_error(self, code, message=None, explain=None):
        if code == 404:
          site.missing.append(self.path)
        super().send_error(code, message, explain)

      def do_GET(self):
        site.served.append(self.path)
        super().do_GET()
    return functools.partial(Handler, directory=self.root)


@pytest.fixture
def browser():
  from selenium import webdriver
  from selenium.webdriver.chrome.service import Service
  options = webdriver.ChromeOptions()
  options.binary_location = CHROMIUM
  for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--window-size=1000,700"):
    options.add_argument(flag)
  options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
  driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
  yield driver
  driver.quit()


def _wait(driver, script, timeout=20.0):
  deadline = time.time() + timeout
  while time.time() < deadline:
    value = driver.execute_script(script)
    if value:
      return value
    time.sleep(0.1)
  raise AssertionError(f"timed out waiting for: {script}")


def _tiles_of_frame(driver, year):
  return _wait(driver, f"""
    const tiles = [...document.querySelectorAll('img.leaflet-tile')];
    return tiles.length > 0 && tiles.every(t => t.src.includes('/{year}/') && t.complete
                                            && t.classList.contains('leaflet-tile-loaded')) ? tiles.length : 0;""")


def test_viewer_loads_its_tiles_and_the_controls_work(published, browser, tmp_path):  # noqa: F811
  with StaticSite(published) as site:
    browser.get(f"{site.url}/index.html")
    assert _wait(browser, "return window.redesViewer && redesViewer.frame()") == "2019"
    assert browser.find_element("id", "title").text == "pensacola"
    shown = _tiles_of_frame(browser, "2019")
    assert shown >= 2                                         # both layers show tiles of 2019

    browser.execute_script("const s = document.getElementById('year-slider'); s.value = 1;"
                           "s.dispatchEvent(new Event('input'));")
    assert _tiles_of_frame(browser, "2020") >= 2
    assert browser.find_element("id", "year").text == "2020"
    links = {name: browser.find_element("id", f"download-{name}").get_attribute("href")
             for name in ("original", "enhanced")}
    assert links == {name: f"{site.url}/{name}/2020.tif" for name in links}
    for link in links.values():
      size = _wait(browser, f"return fetch('{link}').then(r => r.ok ? Number(r.headers.get('content-length')) : 0)")
      assert size > 10_000                                   # the year's COG itself
    assert browser.find_element("css selector", ".leaflet-control-scale-line").text.endswith(("km", "m"))
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(browser).move_to_element_with_offset(browser.find_element("id", "map"), 100, 200).perform()
    lat, lon = (float(v) for v in _wait(browser, "return document.getElementById('coords').textContent").split(","))
    assert browser.execute_script("return redesViewer.map.getBounds().pad(0.01).contains([arguments[0], "
                                  "arguments[1]])", lat, lon)

    browser.find_element("id", "play").click()               # 700 ms per year: 2020 -> 2019 -> ...
    _wait(browser, "return redesViewer.frame() === '2019'", timeout=5)
    browser.find_element("id", "play").click()
    paused = browser.execute_script("return redesViewer.frame()")
    time.sleep(1.5)
    assert browser.execute_script("return redesViewer.frame()") == paused

    browser.execute_script("const s = document.getElementById('swipe'); s.value = 250;"
                           "s.dispatchEvent(new Event('input'));")
    clip = browser.execute_script("return redesViewer.layers.enhanced.getContainer().style.clip")
    left = float(clip.split(",")[-1].strip(" px)"))
    origin = browser.execute_script("return redesViewer.map.containerPointToLayerPoint([0, 0]).x")
    width = browser.execute_script("return redesViewer.map.getSize().x")
    assert left - origin == pytest.approx(width / 4, abs=1)
    _tiles_of_frame(browser, paused)

    screenshot = tmp_path / "viewer.png"
    assert browser.save_screenshot(str(screenshot))
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
  assert site.missing == [] and errors == []
  assert any("/enhanced/2020/" in path for path in site.served) and any("/original/2019/" in path
                                                                          for path in site.served)
  with Image.open(screenshot) as image:
    pixels = np.asarray(image.convert("RGB"), np.float32)
  assert image.size[0] == 1000 and pixels.std() > 20          # imagery, not a blank page
  inner = pixels[80:-80]                                      # below the bar, above the swipe
  imagery = inner[np.abs(inner - 34).max(axis=-1) > 1].mean(axis=-1)   # 34: the map's background (#222)
  low, median, high = np.percentile(imagery, [5, 50, 95])
  assert imagery.size > 50_000 and 80 < median < 170 and high - low > 150, (low, median, high)  # bright, contrasted
  print(f"viewer screenshot: {screenshot}")


def test_the_uncertainty_overlay_shows_when_checked(published_with_uncertainty, browser, published):  # noqa: F811
  with StaticSite(published_with_uncertainty) as site:
    browser.get(f"{site.url}/index.html")
    _tiles_of_frame(browser, "2019")
    assert not any("/uncertainty/" in path for path in site.served)     # off until asked for
    browser.find_element("id", "uncertainty").click()
    _wait(browser, "return [...document.querySelectorAll('img.leaflet-tile')].some(t => "
                   "t.src.includes('/uncertainty/2019/') && t.classList.contains('leaflet-tile-loaded'))")
    browser.execute_script("redesViewer.setFrame(1)")
    _wait(browser, "return [...document.querySelectorAll('img.leaflet-tile')].some(t => "
                   "t.src.includes('/uncertainty/2020/') && t.classList.contains('leaflet-tile-loaded'))")
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
  assert site.missing == [] and errors == []
  with StaticSite(published) as site:                                    # published without: no checkbox
    browser.get(f"{site.url}/index.html")
    _wait(browser, "return !!window.redesViewer")
    assert not browser.find_element("id", "uncertainty-control").is_displayed()
