import json
import re

from redes.publish.viewer import write_viewer


def test_viewer_embeds_its_config_and_escapes_names(tmp_path):
  name = '</script><script>alert("x")</script>'
  path = write_viewer(str(tmp_path), name, ["original", "enhanced"], ["2019", "2020"], (-87.5, 30.6, -87.3, 30.8),
                      10, 14, "webp", 700)
  html = open(path).read()
  assert "</script><script>alert" not in html
  config = json.loads(re.search(r"const CONFIG = (.*);", html).group(1))
  assert config == {"region": name, "layers": ["original", "enhanced"], "frames": ["2019", "2020"],
                    "bounds": [-87.5, 30.6, -87.3, 30.8], "min_z": 10, "max_z": 14, "ext": "webp", "delay_ms": 700}
  leaflet = tmp_path / "leaflet"
  assert (leaflet / "leaflet.js").stat().st_size > 100_000 and (leaflet / "leaflet.css").exists()
