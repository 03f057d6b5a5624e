"""Recovery from a killed local run, done by local_runner.py before the next run starts: that run holds the output
folder's lock (redes.lock), so no other run is alive, and every execution MLMD still shows as NEW or RUNNING was
left by a run that died. Each is marked CANCELED, with the custom property `redes_abandoned` saying so, and the
output folders TFX's launcher had made for it (`<pipeline root>/<component>/<output>/<execution id>`, and its
`.system` working folders) are removed, so that nothing unfinished stays beside the finished artifacts. Caching
reuses only finished executions, so the resumed run redoes exactly the components that had not finished.
"""
import glob
import logging
import os
import shutil

from redes.mlmd import component_names, open_store

ABANDONED = "redes_abandoned"
NOTE = "left unfinished by a run that ended without finishing it (killed); found by the next run"


def abandon_unfinished(metadata_path: str, pipeline_root: str) -> list[str]:
  """Marks the unfinished executions of earlier runs CANCELED and removes their output folders; returns them as
  `<component> (execution <id>)`."""
  if not os.path.exists(metadata_path):
    return []
  # pylint: disable-next=import-outside-toplevel  (MLMD is needed only when a run starts)
  from ml_metadata.proto import metadata_store_pb2
  execution_pb = metadata_store_pb2.Execution
  store = open_store(metadata_path, writable=True)
  unfinished = [e for e in store.get_executions() if e.last_known_state in (execution_pb.NEW, execution_pb.RUNNING)]
  names = component_names(store)
  abandoned = []
  for execution in unfinished:
    execution.last_known_state = execution_pb.CANCELED
    execution.custom_properties[ABANDONED].string_value = NOTE
    name = names.get(execution.id, str(execution.id))
    folders = (glob.glob(os.path.join(pipeline_root, name, "*", str(execution.id))) +
               glob.glob(os.path.join(pipeline_root, name, ".system", "*", str(execution.id))))
    for folder in folders:
      shutil.rmtree(folder, ignore_errors=True)
    abandoned.append(f"{name} (execution {execution.id})")
  if unfinished:
    store.put_executions(unfinished)
    logging.warning("a run that was killed left %s unfinished: marked CANCELED, their output folders removed",
                    ", ".join(abandoned))
  return abandoned
