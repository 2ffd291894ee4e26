"""CPU seconds of a command and every process it starts, grouped by kind (Python, Playwright driver, Chromium's types).

``getrusage`` misses Chromium's processes (the zygote's children are not reaped by the command's tree), so this
samples ``/proc/<pid>/stat`` of the command's descendants a few times a second and keeps each process's last
utime + stime. A process that lives less than one interval is missed; Chromium's are long-lived. Usage::

    .venv/bin/python bench/cpu_tree.py -- .venv/bin/pytest suites --device mfp-c5790 -p no:cacheprovider -q
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
INTERVAL = 0.2


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of ``pid``, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def tree_cpu(root: int) -> float:
    """CPU seconds so far of ``root`` and its living descendants (for a running process to read its own tree)."""
    parents = {pid: found[0] for pid in _pids() if (found := _stat(pid)) is not None}
    tree, grew = {root}, True
    while grew:
        size = len(tree)
        tree |= {pid for pid, ppid in parents.items() if ppid in tree}
        grew = len(tree) > size
    return sum(found[1] for pid in tree if (found := _stat(pid)) is not None)


def _pids() -> list[int]:
    return [int(entry.name) for entry in os.scandir("/proc") if entry.name.isdigit()]


def _kind(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = b" ".join(argv).decode(errors="replace").split()  # Chromium rewrites its title into one string
    if not words:
        return "?"
    if "chrom" in words[0]:
        kind = next((w.split("=", 1)[1] for w in words if w.startswith("--type=")), "browser")
        return f"chromium {kind}"
    if words[0].endswith("node"):
        return "playwright driver"
    return Path(words[0]).name


def measure(argv: list[str]) -> tuple[int, float, dict[str, float]]:
    """Run ``argv``; return its exit status, wall seconds and CPU seconds per kind of process."""
    started = time.perf_counter()
    child = subprocess.Popen(argv)
    seen: dict[int, tuple[str, float]] = {}  # pid: (kind, CPU seconds at the last sample)
    tree = {child.pid}
    while child.poll() is None:
        parents = {pid: found[0] for pid in _pids() if (found := _stat(pid)) is not None}
        for pid, ppid in parents.items():
            if ppid in tree:
                tree.add(pid)
        for pid in list(tree):
            found = _stat(pid)
            if found is not None:
                kind = _kind(pid)  # read again: a launcher script execs Chromium; a process gone reads as ?
                seen[pid] = (seen[pid][0] if kind == "?" and pid in seen else kind, found[1])
        time.sleep(INTERVAL)
    wall = time.perf_counter() - started
    per_kind: dict[str, float] = defaultdict(float)
    for kind, cpu in seen.values():
        per_kind[kind] += cpu
    return child.returncode, wall, dict(per_kind)


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    status, wall, per_kind = measure(argv)
    print(f"wall {wall:.1f} s, CPU {sum(per_kind.values()):.1f} s")
    for kind, cpu in sorted(per_kind.items(), key=lambda item: -item[1]):
        print(f"  {cpu:7.1f} s  {kind}")
    return status


if __name__ == "__main__":
    sys.exit(main())
