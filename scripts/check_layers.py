#!/usr/bin/env python3
"""Fails when a file of one layer includes a header of a layer it does not link.

The layer of src/<layer>/... is its first folder. The map (written by CMake from the
sigprop_layer calls in CMakeLists.txt) lists each layer's direct dependencies, one line each:
"model:config math kernels". A layer may include its own headers and those of every layer it
reaches through the map; anything else is an upward or sideways edge, and the build stops.
"""
import argparse
import pathlib
import re
import sys

INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]+"([a-z_]+)/', re.M)


def read_map(path):
    deps = {}
    for line in pathlib.Path(path).read_text().splitlines():
        line = line.strip()
        if line:
            name, _, rest = line.partition(":")
            deps[name] = rest.replace(";", " ").split()
    return deps


def reachable(deps, layer):
    seen, todo = set(), [layer]
    while todo:
        for d in deps.get(todo.pop(), []):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen | {layer}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--map", required=True)
    ap.add_argument("--src", required=True)
    args = ap.parse_args()
    deps = read_map(args.map)
    src = pathlib.Path(args.src)
    errors = []
    for f in sorted(src.rglob("*")):
        if f.suffix not in (".h", ".cpp"):
            continue
        layer = f.relative_to(src).parts[0]
        if layer not in deps:
            errors.append(f"{f}: folder src/{layer} is not a layer; add it in CMakeLists.txt")
            continue
        allowed = reachable(deps, layer)
        for m in INCLUDE.finditer(f.read_text()):
            target = m.group(1)
            if target not in allowed:
                line = f.read_text()[: m.start()].count("\n") + 1
                errors.append(f"{f}:{line}: layer '{layer}' includes '{target}/', which it does not "
                              f"link (it may include: {' '.join(sorted(allowed))})")
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
