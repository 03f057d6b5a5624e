"""Ingestion, before and inside PatchExampleGen: region files, the patch grid, the embedded demo data, Landsat /
Sentinel-2 pairs from rasters or Earth Engine (their cache and registration), and the Landsat-like degradation the
Trainer and ImageEvaluator also use."""
