"""How this process's C heap (glibc's malloc) hands back the memory it frees, set for block-wise publishing
(redes.publish.cog, whose writers enhancement and the frames use): an enhanced block and its copies (28 MB at 512 px,
3 bands, scale 3) and GDAL's tile buffers are allocated and freed again for every block. By default glibc serves
such sizes by fresh mappings or returns them to the kernel once freed, so each block pays the kernel's zeroing of
new pages again (a quarter of the CPU time of a block loop without the model, measured with perf on a 10,000^2
frame). Raising the mapping threshold to its largest and the trim threshold keeps that memory for the next block;
what is kept stays under the process's own earlier peak plus TRIM_THRESHOLD.

TensorFlow's tensors are the other half: the generator's activations on a block (36 MB at 530^2 input pixels and 32
filters) lie above glibc's largest mapping threshold, so with TensorFlow's default CPU allocator every model call maps
them afresh (86,000 page faults a call measured here, a third of its time in the kernel). pool_tensorflow_memory
makes TensorFlow keep its CPU memory in its own pool (the BFC allocator it uses for GPUs); redes/__init__.py calls
it, so every process that imports Redes before its first tensor gets it."""
import ctypes
import functools
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3   # mallopt's parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20    # bytes; glibc's largest (HEAP_MAX_SIZE / 2): larger allocations are still mapped
TRIM_THRESHOLD = 256 << 20   # bytes of free memory at the heap's top kept rather than returned
TF_POOL = "TF_CPU_ALLOCATOR_USE_BFC"   # read by TensorFlow when it makes its CPU allocator: at the first tensor


@functools.cache
def keep_freed_memory() -> bool:
  """Sets both thresholds, once per process; False where the C library has no mallopt or refuses them (not glibc),
  which changes nothing else."""
  mallopt = getattr(ctypes.CDLL(None), "mallopt", None)   # the symbols already loaded: the C library's
  if mallopt is None:
    return False
  return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def pool_tensorflow_memory() -> None:
  """Asks TensorFlow to pool its CPU memory, unless the environment says otherwise (a process whose TensorFlow has
  already made a tensor keeps the allocator it has)."""
  os.environ.setdefault(TF_POOL, "true")
