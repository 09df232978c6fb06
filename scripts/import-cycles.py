#!/usr/bin/env python3
"""Lists import circles between the files of each crate of the workspace.

A file's imports are the module paths it names (`use crate::a::b`,
`crate::a::f()`, `super::x`, `self::x`), resolved to the file of the deepest
module they reach; `mod x;` declarations are not imports. Any group of files
that reach each other is printed; the exit code is 1 when there is one.
"""
import os
import re
import sys

CRATES = ["core/src", "macros/src", "backends/sqlite/src", "backends/mysql/src",
          "backends/postgres/src", "src", "pipeline/src", "benches/src", "examples/inventory/src"]


def modules(root):
    """Module path (tuple) -> file, for every .rs file under root."""
    out = {}
    for dirpath, _, files in os.walk(root):
        if os.path.relpath(dirpath, root).startswith("bin"):
            continue
        for name in files:
            if not name.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, name), root)[:-3].split(os.sep)
            if rel[-1] in ("mod", "lib", "main"):
                rel = rel[:-1]
            out[tuple(rel)] = os.path.join(dirpath, name)
    return out


def references(text):
    lines = [l for l in text.splitlines() if not l.lstrip().startswith("//")]
    text = "\n".join(re.sub(r"//.*", "", l) for l in lines)
    # `use a::{b, c::d}` groups: expand one level.
    # `$crate` in an exported macro names the crate root, not an import.
    text = text.replace("$crate", "$root")
    for m in re.finditer(r"\b(crate|super|self)((?:::\w+)*)::\{([^}]*)\}", text):
        for part in m.group(3).split(","):
            part = part.strip().split(" as ")[0]
            if part:
                yield (m.group(1) + m.group(2) + "::" + part).split("::")
    for m in re.finditer(r"\b(crate|super|self)((?:::\w+)+)(!?)", text):
        # An exported macro lives at the crate root wherever it is defined.
        if not m.group(3):
            yield (m.group(1) + m.group(2)).split("::")


def resolve(here, path, mods):
    if path[0] == "crate":
        base, rest = (), path[1:]
    elif path[0] == "super":
        base, rest = here[:-1], path[1:]
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
    else:
        base, rest = here, path[1:]
    best = base
    for i in range(1, len(rest) + 1):
        if base + tuple(rest[:i]) in mods:
            best = base + tuple(rest[:i])
    return best


def cycles(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in list(graph):
        if v not in index:
            strong(v)
    return out


def main():
    found = False
    for root in CRATES:
        if not os.path.isdir(root):
            continue
        mods = modules(root)
        graph = {}
        for path, file in mods.items():
            with open(file, encoding="utf-8") as f:
                text = f.read()
            targets = {mods[resolve(path, ref, mods)] for ref in references(text)
                       if resolve(path, ref, mods) in mods}
            graph[file] = sorted(t for t in targets if t != file)
        for group in cycles(graph):
            found = True
            print(f"{root}: import circle: " + " -> ".join(group))
    if not found:
        print("no import circles")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
