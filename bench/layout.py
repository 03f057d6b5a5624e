"""Figures of the code's layout (issue figures of structure, not speed): production modules per folder, imports
from the core (`redes/`) to the layers above it, import cycles, imports inside functions, module-level names
defined in more than one module, and the longest functions. Run on demand: `.venv/bin/python bench/layout.py`.

Reads the sources with `ast` only (nothing is imported). Tests (`*_test.py`, `tests/`, `conftest.py`) and `bench/`
are left out: the figures describe the code a newcomer has to find their way in.
"""
import ast
import collections
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UPPER_LAYERS = ("pipeline", "components", "models", "kubeflow_runner", "local_runner", "system")
LEFT_OUT = ("tests", "bench", "scripts", "requirements", ".venv", "redes_output")


def _modules() -> dict:
  """{dotted module name: path} of the production modules."""
  modules = {}
  for folder, dirs, files in os.walk(ROOT):
    rel = os.path.relpath(folder, ROOT)
    dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in LEFT_OUT and "egg-info" not in d)
    for name in files:
      if not name.endswith(".py") or name.endswith("_test.py") or name in ("conftest.py", "setup.py"):
        continue
      parts = ([] if rel == "." else rel.split(os.sep)) + [name[:-3]]
      if parts[-1] == "__init__":
        parts = parts[:-1]
      if parts:
        modules[".".join(parts)] = os.path.join(folder, name)
  return modules


def _resolve(name: str, modules: dict) -> str | None:
  """The production module an imported name belongs to (the longest known prefix), or None."""
  parts = name.split(".")
  for end in range(len(parts), 0, -1):
    candidate = ".".join(parts[:end])
    if candidate in modules:
      return candidate
  return None


def _imports(tree: ast.Module, module: str, modules: dict):
  """(imported module, inside a function?) for every import of a production module."""
  is_package = modules[module].endswith("__init__.py")
  package = module if is_package else module.rpartition(".")[0]

  def visit(node, in_function):
    for child in ast.iter_child_nodes(node):
      inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
      if isinstance(child, ast.Import):
        for alias in child.names:
          yield alias.name, in_function
      elif isinstance(child, ast.ImportFrom):
        base = child.module or ""
        if child.level:
          anchor = package.split(".")[:len(package.split(".")) - child.level + 1]
          base = ".".join(anchor + ([base] if base else []))
        for alias in child.names:
          yield f"{base}.{alias.name}" if base else alias.name, in_function
      yield from visit(child, inside)

  for name, in_function in visit(tree, False):
    target = _resolve(name, modules)
    if target != module:
      yield target, in_function         # target None: a third-party or standard-library module


def _cycles(graph: dict) -> list:
  """Strongly connected components of more than one module (Tarjan)."""
  index, low, stack, on_stack, found = {}, {}, [], set(), []

  def connect(node):
    index[node] = low[node] = len(index)
    stack.append(node)
    on_stack.add(node)
    for nxt in graph.get(node, ()):
      if nxt not in index:
        connect(nxt)
        low[node] = min(low[node], low[nxt])
      elif nxt in on_stack:
        low[node] = min(low[node], index[nxt])
    if low[node] == index[node]:
      component = []
      while True:
        member = stack.pop()
        on_stack.discard(member)
        component.append(member)
        if member == node:
          break
      if len(component) > 1:
        found.append(sorted(component))

  sys.setrecursionlimit(10000)
  for node in sorted(graph):
    if node not in index:
      connect(node)
  return found


def main() -> int:
  modules = _modules()
  graph, upward, lazy, definitions, functions = collections.defaultdict(set), [], [], collections.defaultdict(set), []
  for module, path in sorted(modules.items()):
    with open(path, encoding="utf-8") as f:
      tree = ast.parse(f.read(), path)
    for target, in_function in _imports(tree, module, modules):
      if in_function:
        lazy.append((module, target))
      if target is None:
        continue
      graph[module].add(target)
      if module.split(".")[0] == "redes" and target.split(".")[0] in UPPER_LAYERS:
        upward.append((module, target))
    for node in tree.body:
      targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) \
          else []
      for target in targets:
        if isinstance(target, ast.Name) and target.id.isupper() and len(target.id) > 1:
          definitions[target.id].add(module)
    for node in ast.walk(tree):
      if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        functions.append((node.end_lineno - node.lineno + 1, f"{module}.{node.name}"))

  folders = collections.Counter(module.rpartition(".")[0] if not modules[module].endswith("__init__.py")
                                else module for module in modules)
  print("production modules per folder:")
  for folder, count in sorted(folders.items()):
    print(f"  {folder or '(top level)':<28} {count:>3}")
  print(f"imports from redes/ to upper layers: {len(set(upward))}")
  for module, target in sorted(set(upward)):
    print(f"  {module} -> {target}")
  cycles = _cycles(graph)
  print(f"import cycles: {len(cycles)}")
  for cycle in cycles:
    print("  " + " <-> ".join(cycle))
  first_party = [(m, t) for m, t in lazy if t]
  print(f"imports inside functions: {len(lazy)}, of them first-party {len(first_party)} "
        f"(in {len({m for m, _ in first_party})} modules)")
  repeated = {name: sorted(mods) for name, mods in definitions.items() if len(mods) > 1}
  print(f"module-level constants defined in more than one module: {len(repeated)}")
  for name, mods in sorted(repeated.items()):
    print(f"  {name}: {', '.join(mods)}")
  print("longest functions (lines):")
  for length, name in sorted(functions, reverse=True)[:8]:
    print(f"  {length:>4}  {name}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
