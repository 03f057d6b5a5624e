"""Recorded responses of the STAC extension schemas' published addresses,
https://stac-extensions.github.io/<extension>/<version>/schema.json, which this machine cannot reach: each file in
data/stac_extension_schemas is `json-schema/schema.json` of the extension's release tag (github.com/stac-extensions,
Apache-2.0), unchanged. MLM 1.4 refers to the processing and classification schemas, so they are recorded too."""
import glob
import json
import os

SCHEMAS = os.path.join(os.path.dirname(__file__), "data", "stac_extension_schemas")


def recorded_extension_schemas() -> dict:
  """{published address: schema} of every recorded file, named <extension>-<version>.json."""
  schemas = {}
  for path in sorted(glob.glob(os.path.join(SCHEMAS, "*.json"))):
    extension, version = os.path.basename(path)[:-len(".json")].rsplit("-", 1)
    with open(path) as f:
      schemas[f"https://stac-extensions.github.io/{extension}/{version}/schema.json"] = json.load(f)
  return schemas
