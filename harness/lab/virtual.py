"""The virtual lab: starts the built-in Microsoft tier (and, later, the virtual devices) from an inventory.

``lab.json`` appears in the state directory only once every service accepts connections, and disappears
when the lab stops, so its presence means "a lab is (or was, if its pid is gone) running here".
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from harness.clock import Clock, VirtualClock
from harness.lab.labfile import LabInfo, LabNotRunning, MsftInfo, lab_file, load_lab, process_alive, write_lab
from harness.lab.yamlfile import InventoryError, load_yaml, section
from harness.msft.tenant import load_tenant
from harness.msft.tier import MicrosoftTier


class LabBusy(RuntimeError):
    """Another live lab already owns the state directory."""


class VirtualLab:
    """One virtual lab: ``start()`` returns the :class:`LabInfo` written to ``state_dir/lab.json``."""

    def __init__(self, inventory: Path, state_dir: Path, *, clock: Clock | None = None) -> None:
        self.inventory = Path(inventory)
        self.state_dir = Path(state_dir)
        self.clock = clock
        self.tier: MicrosoftTier | None = None
        self.info: LabInfo | None = None

    def start(self) -> LabInfo:
        """Start every service, then write ``lab.json``; raise InventoryError for a bad inventory."""
        if self.tier is not None:
            raise RuntimeError("this lab is already running")
        msft = section(load_yaml(self.inventory), "msft", self.inventory)
        kind = msft.get("kind", "builtin") if isinstance(msft, dict) else "builtin"
        if kind != "builtin":
            raise InventoryError(f"{self.inventory}: msft.kind: the virtual lab runs the built-in tier only "
                                 f"(expected 'builtin', got {kind!r})")
        tenant = load_tenant(self.inventory)
        self._refuse_if_busy()
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        tier = MicrosoftTier(tenant, self.state_dir / "msft", clock=self.clock or VirtualClock())
        tier.start()
        try:
            info = LabInfo(pid=os.getpid(), started_at=datetime.now(UTC).isoformat(timespec="seconds"),
                           inventory=str(self.inventory.resolve()),
                           msft=MsftInfo.model_validate(tier.lab_info()), devices=[])
            write_lab(self.state_dir, info)
        except BaseException:
            tier.stop()
            raise
        self.tier, self.info = tier, info
        return info

    def stop(self) -> None:
        """Remove ``lab.json`` (the lab is no longer ready), then stop every service; idempotent."""
        if self.tier is None:
            return
        path = lab_file(self.state_dir)
        try:
            if load_lab(self.state_dir).pid == os.getpid():
                path.unlink()
        except (InventoryError, OSError):
            pass
        self.tier.stop()
        self.tier = None

    def _refuse_if_busy(self) -> None:
        try:
            other = load_lab(self.state_dir)
        except LabNotRunning:
            return
        except InventoryError:
            return  # an unreadable leftover: this start replaces it
        if other.pid != os.getpid() and process_alive(other.pid):
            raise LabBusy(f"{lab_file(self.state_dir)}: a lab is already running here (pid {other.pid}); "
                          "stop it or choose another --state-dir")

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
