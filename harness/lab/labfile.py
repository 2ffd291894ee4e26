"""``lab.json``: where a running lab's services listen, written once it is ready, read to attach to it.

The file holds the control token and the virtual tenant's test passwords, so it is written mode 0600 and
atomically (readers never see half a file). Secret fields are kept out of the models' ``repr``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.lab.yamlfile import InventoryError, validate
from harness.msft.control_client import TierControl
from harness.msft.tenant import GLOBAL_ADMIN

LAB_FILE = "lab.json"


class LabNotRunning(InventoryError):
    """No ``lab.json`` in the state directory: no lab was started there, or it has stopped."""


class _Info(BaseModel):
    # Later parts of the lab add fields; readers keep what they do not model.
    model_config = ConfigDict(extra="allow", frozen=True)


class IdentityInfo(_Info):
    host: str
    port: int
    spki_sha256: str


class SmtpInfo(_Info):
    host: str
    port: int
    server_name: str


class ControlInfo(_Info):
    url: str
    token: str = Field(repr=False)


class LabUser(_Info):
    """A test identity of the virtual tenant."""

    upn: str
    password: str = Field(repr=False)
    roles: list[str] = Field(default_factory=list)


class MsftInfo(_Info):
    """The ``msft`` section: the built-in Microsoft tier."""

    authority: str
    client_id: str
    scopes: list[str]
    ca_bundle: Path
    devicelogin_url: str
    identity: IdentityInfo
    smtp: SmtpInfo
    control: ControlInfo
    users: list[LabUser]

    def control_client(self) -> TierControl:
        return TierControl(self.control.url, self.control.token, self.ca_bundle)

    def user(self, upn: str) -> LabUser:
        found = next((u for u in self.users if u.upn.lower() == upn.lower()), None)
        if found is None:
            raise KeyError(f"no test identity {upn!r} in this lab")
        return found

    def admin(self) -> LabUser:
        """The first Global Administrator."""
        found = next((u for u in self.users if GLOBAL_ADMIN in u.roles), None)
        if found is None:
            raise KeyError(f"this lab has no {GLOBAL_ADMIN}")
        return found

    def mailbox_user(self) -> LabUser:
        """The first user without an administrator role: the printer's mailbox in the default inventory."""
        found = next((u for u in self.users if not u.roles), None)
        if found is None:
            raise KeyError("this lab has no user without an administrator role")
        return found


class SnmpEndpoint(_Info):
    host: str
    port: int
    community: str = Field(repr=False)


class DeviceInfo(_Info):
    """One device of the lab as ``lab.json`` lists it."""

    name: str
    kind: Literal["virtual", "real"] = "virtual"
    model: str
    serial: str
    mac: str = ""
    firmware: str
    webconfig: str
    snmp: SnmpEndpoint
    admin_password: str = Field(repr=False)
    capabilities: list[str] = Field(default_factory=list)
    defects: list[str] = Field(default_factory=list)


class LabInfo(_Info):
    """The whole of ``lab.json``."""

    version: Literal[1] = 1
    pid: int
    started_at: str
    inventory: str
    msft: MsftInfo
    devices: list[DeviceInfo] = Field(default_factory=list)

    def device(self, name: str) -> DeviceInfo:
        found = next((d for d in self.devices if d.name == name), None)
        if found is None:
            raise KeyError(f"no device {name!r} in this lab (have: {', '.join(d.name for d in self.devices)})")
        return found


def lab_file(state_dir: Path) -> Path:
    return Path(state_dir) / LAB_FILE


def write_lab(state_dir: Path, lab: LabInfo) -> Path:
    """Write ``lab.json`` into ``state_dir`` atomically, mode 0600; return its path."""
    path = lab_file(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".lab.", suffix=".json", dir=path.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(lab.model_dump(mode="json"), out, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_lab(state_dir: Path) -> LabInfo:
    """Read the ``lab.json`` of a running lab; raise :class:`LabNotRunning` or :class:`InventoryError`."""
    path = lab_file(state_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LabNotRunning(f"{path}: no such file (start a lab with 'epson-hil lab up')") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InventoryError(f"{path}: not valid JSON: {exc}") from None
    return validate(LabInfo, data, path)


def process_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
