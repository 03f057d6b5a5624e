"""The local run's MLMD store (sqlite), as redes.summary reads it after a run and redes.recovery mends it before
one: opening it, and naming each execution by its component."""


def open_store(metadata_path: str, writable: bool = False):
  """The MetadataStore of a local run's sqlite file, read-only unless `writable`."""
  # pylint: disable=import-outside-toplevel  (MLMD is needed only before and after a run, not for the flags)
  from ml_metadata.metadata_store import metadata_store
  from ml_metadata.proto import metadata_store_pb2
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = metadata_path
  config.sqlite.connection_mode = (metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE if writable else
                                   metadata_store_pb2.SqliteMetadataSourceConfig.READONLY)
  return metadata_store.MetadataStore(config)


def component_names(store) -> dict[int, str]:
  """{execution id: the component it ran (the node context's name without the pipeline's)}."""
  names = {}
  for context in store.get_contexts_by_type("node"):
    for execution in store.get_executions_by_context(context.id):
      names[execution.id] = context.name.split(".")[-1]
  return names
