#!/usr/bin/env python3
"""Checks the module structure of server/src: no import circles between top-level modules,
and no plumbing module that reaches a feature, directly or through another module.

A module's dependencies are the `crate::<name>` paths its files mention (imports and
fully qualified paths alike), tests included: a test that needs a feature belongs to it.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "server" / "src"

# The features: each owns one folder and its tables.
FEATURES = {"analytics", "attachments", "auth", "calendar", "digest", "notifications", "reminders", "revision", "tasks"}
# Above the features: they compose the state, the router and the background work.
COMPOSITION = {"app", "bench", "workers", "maintenance"}


def modules():
    found = {}
    for path in ROOT.iterdir():
        if path.name in ("lib.rs", "main.rs"):
            continue
        name = path.stem if path.suffix == ".rs" else path.name
        files = [path] if path.is_file() else sorted(path.rglob("*.rs"))
        found[name] = files
    return found


def dependencies(found):
    pattern = re.compile(r"crate::(\w+)")
    nested = re.compile(r"use crate::\{([^;]*)\}", re.S)
    deps = {}
    for name, files in found.items():
        seen = set()
        for f in files:
            text = f.read_text()
            text = re.sub(r"//[^\n]*", "", text)
            seen.update(pattern.findall(text))
            for group in nested.findall(text):
                seen.update(re.findall(r"(?:^|[,{\s])(\w+)(?=::|\s*[,}]|\s*$)", group))
        deps[name] = sorted(d for d in seen if d in found and d != name)
    return deps


def cycles(deps):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in deps[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in deps:
        if v not in index:
            visit(v)
    return out


def reaches(deps, start):
    seen, todo = set(), [start]
    while todo:
        for w in deps[todo.pop()]:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def main():
    found = modules()
    deps = dependencies(found)
    failed = False
    for comp in cycles(deps):
        failed = True
        print(f"import circle: {' ↔ '.join(comp)}")
        for v in comp:
            inner = [w for w in deps[v] if w in comp]
            print(f"  {v} → {', '.join(inner)}")
    for name in sorted(found):
        if name in FEATURES or name in COMPOSITION:
            continue
        bad = sorted(reaches(deps, name) & (FEATURES | COMPOSITION))
        if bad:
            failed = True
            direct = sorted(set(deps[name]) & (FEATURES | COMPOSITION))
            print(f"plumbing module `{name}` reaches {', '.join(bad)} (directly: {', '.join(direct) or 'none'})")
    if "-v" in sys.argv:
        for name in sorted(deps):
            print(f"{name}: {', '.join(deps[name])}")
    if failed:
        sys.exit(1)
    print("layers: no import circles, plumbing reaches no feature")


if __name__ == "__main__":
    main()
