"""Earth Engine ingestion: credentials, sensor collections and composites, pixel transfer."""
