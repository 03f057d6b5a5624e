"""Redes core, below the runners, components and models, importing none of them: ingest/, evaluation/ and
publish/ by role, and here the contracts every layer shares (bands, example features, the Landsat sensors' table,
the model file, the resamplings, atomic writes, the run summary)."""
from redes.heap import pool_tensorflow_memory

pool_tensorflow_memory()
