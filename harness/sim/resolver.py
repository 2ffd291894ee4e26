"""The virtual device's name resolution: the lab's table of (host name, port) → loopback address.

A real lab points its DNS at the tier; the virtual lab gives each device this table instead, so a device is
configured exactly as the guide says (``smtp.office365.com:587``) and still reaches the built-in tier.
"""

from __future__ import annotations

import threading


class NameResolutionError(OSError):
    """The host name does not resolve (what a device reports as error 360)."""


class Resolver:
    """Thread-safe mapping of ``(host, port)`` (or ``host`` for any port) to ``(address, port)``."""

    def __init__(self, table: dict[tuple[str, int | None], tuple[str, int]] | None = None) -> None:
        self._table: dict[tuple[str, int | None], tuple[str, int]] = {}
        self._lock = threading.Lock()
        for (host, port), target in (table or {}).items():
            self.set(host, port, target)

    def set(self, host: str, port: int | None, target: tuple[str, int]) -> None:
        with self._lock:
            self._table[(host.lower().rstrip("."), port)] = target

    def remove(self, host: str, port: int | None = None) -> None:
        with self._lock:
            self._table.pop((host.lower().rstrip("."), port), None)

    def resolve(self, host: str, port: int) -> tuple[str, int]:
        """Where a connection to ``host:port`` really goes; IPv4 literals go where they say."""
        name = host.lower().rstrip(".")
        with self._lock:
            target = self._table.get((name, port)) or self._table.get((name, None))
        if target is not None:
            return target
        parts = name.split(".")
        if len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts):
            return name, port
        raise NameResolutionError(f"cannot resolve host name {host}")

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            return {f"{h}:{p if p is not None else '*'}": f"{a}:{q}" for (h, p), (a, q) in self._table.items()}
