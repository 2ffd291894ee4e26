"""The virtual lab: starts the built-in Microsoft tier and the inventory's virtual devices.

``lab.json`` appears in the state directory only once every service accepts connections, and disappears
when the lab stops, so its presence means "a lab is (or was, if its pid is gone) running here".
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from harness.clock import Clock, VirtualClock
from harness.lab.inventory import VirtualDeviceEntry, load_inventory
from harness.lab.labfile import (
    DeviceInfo,
    LabInfo,
    LabNotRunning,
    MsftInfo,
    lab_file,
    load_lab,
    process_alive,
    write_lab,
)
from harness.lab.yamlfile import InventoryError, load_yaml, section
from harness.msft.tenant import load_tenant
from harness.msft.tier import MicrosoftTier
from harness.sim.control import device_routes
from harness.sim.fleet import DeviceFleet, TierAddress


class LabBusy(RuntimeError):
    """Another live lab already owns the state directory."""


class VirtualLab:
    """One virtual lab: ``start()`` returns the :class:`LabInfo` written to ``state_dir/lab.json``."""

    def __init__(self, inventory: Path, state_dir: Path, *, clock: Clock | None = None) -> None:
        self.inventory = Path(inventory)
        self.state_dir = Path(state_dir)
        self.clock = clock
        self.tier: MicrosoftTier | None = None
        self.fleet: DeviceFleet | None = None
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
        inventory = load_inventory(self.inventory)
        real = [d.name for d in inventory.devices if not isinstance(d, VirtualDeviceEntry)]
        if real:
            raise InventoryError(f"{self.inventory}: devices: the virtual lab serves virtual devices only "
                                 f"(real: {', '.join(real)})")
        self._refuse_if_busy()
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        clock = self.clock or VirtualClock()
        fleet = DeviceFleet(inventory.virtual_devices(), clock, client_id=tenant.apps[0].client_id)
        tier = MicrosoftTier(tenant, self.state_dir / "msft", clock=clock, control_routes=device_routes(fleet))
        tier.start()
        try:
            fleet.start(TierAddress(tier.host, tier.identity_port, tier.smtp_port))
            info = LabInfo(pid=os.getpid(), started_at=datetime.now(UTC).isoformat(timespec="seconds"),
                           inventory=str(self.inventory.resolve()),
                           msft=MsftInfo.model_validate(tier.lab_info()),
                           devices=[DeviceInfo.model_validate(d) for d in fleet.lab_entries()])
            write_lab(self.state_dir, info)
        except BaseException as exc:
            fleet.stop()
            tier.stop()
            if isinstance(exc, InventoryError):
                raise InventoryError(f"{self.inventory}: {exc}") from None
            raise
        self.tier, self.fleet, self.info = tier, fleet, info
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
        if self.fleet is not None:
            self.fleet.stop()
            self.fleet = None
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
