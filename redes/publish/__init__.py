"""Publishing, in TileGen and `redes tiles`: yearly frames on one grid, their enhancement into COGs, XYZ tiles,
animations, the web viewer and the time series that chains them."""
