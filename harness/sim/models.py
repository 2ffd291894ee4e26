"""The catalogue of virtual Epson models and the identity of one virtual device.

The models themselves are data (``catalogue.yaml`` next to this module): what a model can do is a set of
:class:`Capability` tags, never a branch on its name. A device is one model plus its own serial, MAC and
firmware (:class:`ModelUnit`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.lab.yamlfile import InventoryError, load_yaml, validate

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")
EPSON_ENTERPRISE = "1.3.6.1.4.1.1248"

#: ``07.59.LW14NB``: major.minor, then the 6-character build code the EPSON-CTRL ``vi`` command reports
#: (two family letters, day, year as a letter counted from 1945, month in hex).
_FIRMWARE = re.compile(r"^\d{2}\.\d{2}\.(?P<code>[A-Z]{2}(?P<day>\d{2})(?P<year>[A-Z])(?P<month>[1-9A-C]))$")
_MAC = re.compile(r"^[0-9A-F]{2}(:[0-9A-F]{2}){5}$")
_OID = re.compile(r"^\d+(\.\d+)+$")


class Capability(StrEnum):
    """What a model can do; the closed vocabulary the simulator and the suites select on."""

    OAUTH2_EMAIL = "oauth2_email"
    SCAN_TO_EMAIL = "scan_to_email"
    PRINT = "print"
    STATUS_SHEET = "status_sheet"
    FAX = "fax"
    FAX_SERVER_EMAIL = "fax_server_email"
    SERVERLESS = "serverless"
    EXTENDED_NETWORK = "extended_network"
    PANEL = "panel"


#: A capability that only makes sense together with another one.
_REQUIRES: dict[Capability, Capability] = {
    Capability.STATUS_SHEET: Capability.PRINT,
    Capability.FAX_SERVER_EMAIL: Capability.FAX,
    Capability.SERVERLESS: Capability.SCAN_TO_EMAIL,
}

#: Printer-MIB supply types (prtMarkerSuppliesType names) the catalogue may use.
SupplyType = Literal["ink", "inkCartridge", "toner", "wasteInk", "wasteToner"]
#: Colorants the simulator knows how to report (Printer-MIB colorant value, Epson ST2 ink colour).
Colorant = Literal["black", "cyan", "magenta", "yellow"]
#: Printer-MIB input types (prtInputType names) the catalogue may use.
InputType = Literal["sheetFeedAutoRemovableTray", "sheetFeedAutoNonRemovableTray", "sheetFeedManual"]
#: What an hrDeviceTable row is: the printer engine or another function of the device (scanner, fax, ...).
HrDeviceType = Literal["printer", "other"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Supply(_Model):
    """One marker supply (ink supply unit, maintenance box)."""

    description: str = Field(min_length=1)
    type: SupplyType
    colorant: Colorant | None = None

    @property
    def is_waste(self) -> bool:
        """A receptacle that fills up (a maintenance box) rather than a container that empties."""
        return self.type.startswith("waste")

    @model_validator(mode="after")
    def _colour_for_ink(self) -> Self:
        if not self.is_waste and self.colorant is None:
            raise ValueError(f"supply '{self.description}' consumes ink or toner and needs a colorant")
        if self.is_waste and self.colorant is not None:
            raise ValueError(f"supply '{self.description}' is a waste receptacle and has no colorant")
        return self


class PaperInput(_Model):
    """One paper source (Printer-MIB prtInputTable row)."""

    name: str = Field(min_length=1)
    type: InputType
    capacity: int = Field(ge=1, le=10000)


class HrDevice(_Model):
    """One hrDeviceTable row; ``epson_class`` is the class number in its hrDeviceID (``1248.1.<class>.1...``)."""

    type: HrDeviceType
    epson_class: int = Field(ge=1, le=255)


class NetworkInterface(_Model):
    """One network interface; ``descr`` is what ifDescr answers (the network firmware, as Epson reports it)."""

    descr: str = Field(min_length=1)
    speed: int = Field(100_000_000, ge=1)


class ModelSpec(_Model):
    """Everything a model is, from its name to what SNMP and Web Config show by default."""

    model: str = Field(pattern=r"^[A-Z]{2}-[A-Z0-9-]+$")
    #: The marketing name Epson's own MIB and the IEEE-1284 ID carry (``WF-C5790 Series``).
    product_name: str = Field(min_length=1)
    short_name: str = Field(min_length=1, max_length=16)
    firmware: str
    serial_pattern: str
    default_serial: str
    default_mac: str
    capabilities: frozenset[Capability]
    sys_descr: str = Field(min_length=1)
    sys_object_id: str
    ieee1284_device_id: str
    root_certificate_version: str = Field(pattern=r"^\d{2}\.\d{2}$")
    network_interfaces: tuple[NetworkInterface, ...] = Field(min_length=1)
    hr_devices: tuple[HrDevice, ...] = Field(min_length=1)
    supplies: tuple[Supply, ...] = ()
    inputs: tuple[PaperInput, ...] = ()

    @field_validator("firmware")
    @classmethod
    def _firmware(cls, v: str) -> str:
        if firmware_build_date(v) is None:
            raise ValueError("expected a firmware version like 07.59.LW14NB (build code: family, day, year, month)")
        return v

    @field_validator("serial_pattern")
    @classmethod
    def _pattern(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return v

    @field_validator("default_mac")
    @classmethod
    def _mac(cls, v: str) -> str:
        return normalise_mac(v)

    @field_validator("sys_object_id")
    @classmethod
    def _oid(cls, v: str) -> str:
        if not _OID.match(v) or not v.startswith(EPSON_ENTERPRISE + "."):
            raise ValueError(f"expected a dotted OID under Epson's enterprise number {EPSON_ENTERPRISE}")
        return v

    @field_validator("ieee1284_device_id")
    @classmethod
    def _device_id(cls, v: str) -> str:
        keys = parse_device_id(v)
        if keys.get("MFG") != "EPSON" or not {"MDL", "CLS", "CMD"} <= keys.keys() or not v.endswith(";"):
            raise ValueError("expected an IEEE-1284 device ID like 'MFG:EPSON;CMD:...;MDL:...;CLS:PRINTER;...;'")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problem = self._inconsistency()
        if problem:
            raise ValueError(f"{self.model}: {problem}")
        return self

    def _inconsistency(self) -> str | None:
        if not re.fullmatch(self.serial_pattern, self.default_serial):
            return f"default_serial {self.default_serial!r} does not match serial_pattern"
        for cap, needed in _REQUIRES.items():
            if cap in self.capabilities and needed not in self.capabilities:
                return f"capability {cap.value} needs {needed.value}"
        if parse_device_id(self.ieee1284_device_id)["MDL"] != self.product_name:
            return "ieee1284_device_id MDL must be the product_name"
        prints = Capability.PRINT in self.capabilities
        if prints != (self.hr_devices[0].type == "printer") or sum(d.type == "printer" for d in self.hr_devices) > 1:
            return "a printing model lists its printer first in hr_devices (once); others list none"
        if not prints and (self.supplies or self.inputs):
            return "a model without 'print' has no supplies or paper inputs"
        if prints and not (self.supplies and self.inputs):
            return "a printing model needs supplies and paper inputs"
        if (Capability.EXTENDED_NETWORK in self.capabilities) != (len(self.network_interfaces) > 1):
            return "exactly the models with 'extended_network' have a second network interface"
        return None

    @property
    def prints(self) -> bool:
        return Capability.PRINT in self.capabilities

    def has(self, capability: Capability | str) -> bool:
        return Capability(capability) in self.capabilities

    def unit(self, *, serial: str | None = None, mac: str | None = None, firmware: str | None = None,
                 name: str | None = None, admin_password: str | None = None) -> ModelUnit:
        """One device of this model; anything not given takes the model's default (admin password: the serial)."""
        serial = serial or self.default_serial
        if not re.fullmatch(self.serial_pattern, serial):
            raise ValueError(f"serial {serial!r} does not match {self.model}'s pattern {self.serial_pattern}")
        firmware = firmware or self.firmware
        if firmware_build_date(firmware) is None:
            raise ValueError(f"firmware {firmware!r} is not like 07.59.LW14NB")
        mac = normalise_mac(mac or self.default_mac)
        return ModelUnit(
            model=self, serial=serial, mac=mac, firmware=firmware,
            name=name or default_device_name(mac), admin_password=admin_password or serial,
        )


@dataclass(frozen=True)
class ModelUnit:
    """One unit of a catalogue model as its SNMP agent presents it: the model spec plus its own serial, MAC,
    firmware, name and admin password (``harness.sim.device.DeviceIdentity`` is the device-wide identity)."""

    model: ModelSpec
    serial: str
    mac: str
    firmware: str
    name: str
    admin_password: str = field(repr=False)
    location: str = ""
    contact: str = ""

    def __repr__(self) -> str:
        return (f"ModelUnit({self.model.model} serial={self.serial} mac={self.mac} "
                f"firmware={self.firmware} name={self.name})")

    @property
    def firmware_code(self) -> str:
        """The 6-character build code (``LW14NB``) that EPSON-CTRL ``vi`` reports."""
        match = _FIRMWARE.match(self.firmware)
        assert match is not None  # validated when the identity was made
        return match["code"]

    def interface_mac(self, index: int) -> str:
        """The MAC of network interface ``index`` (0 = standard); an extended interface takes the next ones."""
        value = (int(self.mac.replace(":", ""), 16) + index) & 0xFFFF_FFFF_FFFF
        return normalise_mac(f"{value:012X}")


class Catalogue(_Model):
    """All models, in catalogue order."""

    models: tuple[ModelSpec, ...]

    @model_validator(mode="after")
    def _unique(self) -> Self:
        if not self.models:
            raise ValueError("the catalogue lists no models")
        seen: set[str] = set()
        for spec in self.models:
            if spec.model.upper() in seen:
                raise ValueError(f"model {spec.model} is listed twice")
            seen.add(spec.model.upper())
        return self

    def names(self) -> list[str]:
        return [spec.model for spec in self.models]

    def get(self, model: str) -> ModelSpec:
        """The model named ``model`` (case-insensitive); an unknown name lists the known ones."""
        for spec in self.models:
            if spec.model.upper() == model.strip().upper():
                return spec
        raise KeyError(f"unknown Epson model {model!r}; the catalogue has {', '.join(self.names())}")

    def with_capability(self, capability: Capability | str) -> list[ModelSpec]:
        return [spec for spec in self.models if spec.has(capability)]


def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """Read and validate a catalogue file; errors name the file and the key (:class:`InventoryError`)."""
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise InventoryError(f"{path}: (top level): expected a mapping with a 'models:' list")
    return validate(Catalogue, data, path)


@cache
def default_catalogue() -> Catalogue:
    """The catalogue shipped with the harness (read once)."""
    return load_catalogue()


def get_model(model: str) -> ModelSpec:
    """A model of the shipped catalogue by name."""
    return default_catalogue().get(model)


def list_models() -> list[ModelSpec]:
    """Every model of the shipped catalogue."""
    return list(default_catalogue().models)


def firmware_build_date(firmware: str) -> date | None:
    """The build date encoded in a firmware version, or None if the version is not shaped like Epson's."""
    match = _FIRMWARE.match(firmware)
    if match is None:
        return None
    try:
        return date(ord(match["year"]) + 1945, int(match["month"], 16), int(match["day"]))
    except ValueError:
        return None


def normalise_mac(mac: str) -> str:
    """``64eb8c1a2b3c`` or ``64-EB-8C-1A-2B-3C`` → ``64:EB:8C:1A:2B:3C``; anything else is refused."""
    digits = re.sub(r"[:\-.]", "", mac.strip()).upper()
    text = ":".join(digits[i:i + 2] for i in range(0, len(digits), 2))
    if not _MAC.match(text):
        raise ValueError(f"expected a MAC address like 64:EB:8C:1A:2B:3C, got {mac!r}")
    if int(digits[:2], 16) & 1:
        raise ValueError(f"{mac!r} is a multicast address, not a device's")
    return text


def default_device_name(mac: str) -> str:
    """Epson's factory device name: ``EPSON`` and the last six hex digits of the MAC."""
    return "EPSON" + normalise_mac(mac).replace(":", "")[-6:]


def parse_device_id(device_id: str) -> dict[str, str]:
    """The ``KEY:value`` pairs of an IEEE-1284 device ID string."""
    pairs = (item.partition(":") for item in device_id.split(";") if item)
    return {key: value for key, sep, value in pairs if sep}
