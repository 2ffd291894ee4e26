"""Allure steps for device and Microsoft actions: titled by what happens on which device, never with a secret.

``allure.step`` used as a decorator records every argument of the call as a step parameter (a password
too); :func:`step` records none. Its title is formatted from the call's arguments by name (``{self.title}``,
``{service}``) plus ``{device}``, the inventory's name of the device the first argument drives (or its
address), and passes the redaction filter before Allure sees it.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import allure

from harness.reporting.redaction import redactor

F = TypeVar("F", bound=Callable[..., Any])

_names: dict[str, str] = {}
_lock = threading.Lock()


def name_device(name: str, *addresses: str) -> None:
    """Remember that ``addresses`` (Web Config URLs, ``host:port``) belong to the inventory's device ``name``."""
    with _lock:
        for address in addresses:
            _names[_key(address)] = name


def device_label(address: str) -> str:
    """The inventory's name for ``address`` when known, else the address itself (``host:port``)."""
    key = _key(address)
    with _lock:
        return _names.get(key, key)


def _key(address: str) -> str:
    if "://" in address:
        parts = urlsplit(address)
        return parts.netloc or address
    return address


def target(obj: object) -> str:
    """The device an object drives, as a step title names it: a page object's URL, a panel's device, an address."""
    base_url = getattr(obj, "base_url", None)
    if isinstance(base_url, str):
        return device_label(base_url)
    for attribute in ("device_name", "device"):
        value = getattr(obj, attribute, None)
        if isinstance(value, str):
            return value
    return device_label(obj) if isinstance(obj, str) else type(obj).__name__


def step_title(title: str) -> str:
    """``title`` fit for Allure: redacted, on one line."""
    return " ".join(redactor().redact_text(title).split())


def step(title: str) -> Callable[[F], F]:
    """Decorate a function as an Allure step whose title is ``title`` formatted with the call's arguments.

    The arguments are never recorded as step parameters; ``{device}`` names what the first argument drives.
    """
    def decorate(func: F) -> F:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            with allure.step(step_title(_format(title, signature, args, kwargs))):
                return func(*args, **kwargs)

        return run  # type: ignore[return-value]

    return decorate


def _format(title: str, signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    try:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        values.setdefault("device", target(args[0]) if args else "")
        return title.format(**values)
    except (TypeError, KeyError, AttributeError, IndexError, ValueError):
        return title  # a title that does not fit the call still names the action
