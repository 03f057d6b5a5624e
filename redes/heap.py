"""How this process's C heap (glibc's malloc) hands back the memory it frees, set for block-wise publishing
(redes.publish.cog, whose writers enhancement and the frames use): an enhanced block and its copies (28 MB at 512 px,
3 bands, scale 3) and GDAL's tile buffers are allocated and freed again for every block. By default glibc serves
such sizes by fresh mappings or returns them to the kernel once freed, so each block pays the kernel's zeroing of
new pages again (a quarter of the CPU time of a block loop without the model, measured with perf on a 10,000^2
frame). Raising the mapping threshold to its largest and the trim threshold keeps that memory for the next block;
what is kept stays under the process's own earlier peak plus TRIM_THRESHOLD."""
import ctypes
import functools

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3   # mallopt's parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20    # bytes; glibc's largest (HEAP_MAX_SIZE / 2): larger allocations are still mapped
TRIM_THRESHOLD = 256 << 20   # bytes of free memory at the heap's top kept rather than returned


@functools.cache
def keep_freed_memory() -> bool:
  """Sets both thresholds, once per process; False where the C library has no mallopt or refuses them (not glibc),
  which changes nothing else."""
  mallopt = getattr(ctypes.CDLL(None), "mallopt", None)   # the symbols already loaded: the C library's
  if mallopt is None:
    return False
  return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
