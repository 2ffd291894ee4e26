"""The lab inventory: the Microsoft tier and the devices under test, validated with clear errors.

Secrets of a real lab are never inline: they are ``{env: NAME}`` references read from the environment when
used. The virtual tenant's test identities are the one exception (they exist only inside the virtual lab).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.lab.yamlfile import InventoryError, load_yaml, validate
from harness.reporting.redaction import register_secret

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(_Model):
    """A secret named by an environment variable, never written in the inventory."""

    env: str

    def resolve(self, where: str = "") -> str:
        value = os.environ.get(self.env)
        if value is None:
            raise InventoryError(f"{where + ': ' if where else ''}environment variable {self.env} is not set "
                                 "(the inventory names it as the secret's source)")
        register_secret(value)
        return value


class SnmpSettings(_Model):
    """How to reach a device's SNMP agent; v3 keys are secret references."""

    version: Literal["1", "2c", "3"] = "2c"
    community: str = "public"
    port: int = Field(161, ge=1, le=65535)
    user: str | None = None
    auth_key: SecretRef | None = None
    priv_key: SecretRef | None = None
    timeout: float = Field(2.0, gt=0, le=60)
    retries: int = Field(1, ge=0, le=10)


class _DeviceBase(_Model):
    name: str
    model: str
    locator_profile: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("expected a short lower-case name of letters, digits and '-' (e.g. mfp-3f-east)")
        return v


class VirtualDeviceEntry(_DeviceBase):
    """A simulated device of the virtual lab; unset facts come from the model catalogue."""

    kind: Literal["virtual"] = "virtual"
    serial: str | None = None
    mac: str | None = None
    firmware: str | None = None
    admin_password: str | None = Field(None, repr=False)
    defects: list[str] = Field(default_factory=list)


class RealDeviceEntry(_DeviceBase):
    """A real printer or scanner on the lab network."""

    kind: Literal["real"]
    address: str
    webconfig: str | None = None
    admin_password: SecretRef
    serial: str
    mac: str
    firmware: str
    capabilities: list[str]
    snmp: SnmpSettings = Field(default_factory=SnmpSettings)

    @property
    def webconfig_url(self) -> str:
        return self.webconfig or f"https://{self.address}"


DeviceEntry = Annotated[VirtualDeviceEntry | RealDeviceEntry, Field(discriminator="kind")]


class BuiltinMicrosoft(_Model):
    """The built-in tier; its ``tenant`` section is the virtual tenant (see ``harness.msft.tenant``)."""

    kind: Literal["builtin"] = "builtin"
    tenant: dict[str, Any]


class TenantAccount(_Model):
    """An account of a real tenant the suites sign in with; the password comes from the environment."""

    upn: str
    password: SecretRef


class GraphReader(_Model):
    """The app registration that reads the test mailboxes through Microsoft Graph (client credentials)."""

    client_id: str
    client_secret: SecretRef


class RealMicrosoft(_Model):
    """A real Microsoft 365 tenant: the devices' app registration and the accounts to use."""

    kind: Literal["tenant"]
    tenant_id: str
    domain: str
    client_id: str
    authority: str = "https://login.microsoftonline.com"
    admin: TenantAccount
    mailbox: TenantAccount
    users: list[TenantAccount] = Field(default_factory=list)
    graph: GraphReader | None = None


MicrosoftSection = Annotated[BuiltinMicrosoft | RealMicrosoft, Field(discriminator="kind")]


class Inventory(_Model):
    """The whole inventory file: the Microsoft side and the devices."""

    msft: MicrosoftSection
    devices: list[DeviceEntry] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _default_kind(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("msft"), dict) and "kind" not in data["msft"]:
            data = {**data, "msft": {"kind": "builtin", **data["msft"]}}
        if isinstance(data, dict) and isinstance(data.get("devices"), list):
            data = {**data, "devices": [{"kind": "virtual", **d} if isinstance(d, dict) and "kind" not in d
                                        else d for d in data["devices"]]}
        return data

    @model_validator(mode="after")
    def _unique_names(self) -> Inventory:
        seen: set[str] = set()
        for device in self.devices:
            if device.name in seen:
                raise ValueError(f"device name {device.name!r} is used twice; names must be unique")
            seen.add(device.name)
        return self

    def device(self, name: str) -> VirtualDeviceEntry | RealDeviceEntry:
        found = next((d for d in self.devices if d.name == name), None)
        if found is None:
            raise InventoryError(f"no device named {name!r} in the inventory (have: "
                                 f"{', '.join(d.name for d in self.devices) or 'none'})")
        return found

    def virtual_devices(self) -> list[VirtualDeviceEntry]:
        return [d for d in self.devices if isinstance(d, VirtualDeviceEntry)]


def load_inventory(path: Path) -> Inventory:
    """Read and validate an inventory file; errors name the file, the key path and what was expected."""
    return validate(Inventory, load_yaml(path), path, tags=frozenset({"virtual", "real", "builtin", "tenant"}))
