"""Redes core: the geospatial and data pieces shared by the TFX components and the `redes` command."""
