"""Earth Engine access for ingestion and for the yearly frames of publishing: credentials, the Landsat and
Sentinel-2 collections and composites, pixel transfer and bulk exports."""
