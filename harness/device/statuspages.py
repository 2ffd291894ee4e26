"""Reading a device's public status pages (Product Status, Network Status) over plain HTTP(S), without a login.

Business models serve ``/PRESENTATION/ADVANCED/INFO_PRTINFO/TOP`` and ``.../INFO_NWINFO/TOP``; consumer
models have one ``/PRESENTATION/HTML/TOP/PRTINFO.HTML`` whose Network tab is their network status. English
is asked for with Epson's language cookie; nothing on the device changes. Devices use self-signed
certificates, so ``verify`` is the caller's choice (True, a CA bundle path, or False).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, replace

import requests
import urllib3

from harness.device.errors import DeviceError, InfraError
from harness.device.infopage import InfoPage, parse_info_page

__all__ = ["StatusPages", "WebConfigPageError", "WebConfigUnreachable", "read_status_pages"]

PRODUCT_STATUS = "/PRESENTATION/ADVANCED/INFO_PRTINFO/TOP"
NETWORK_STATUS = "/PRESENTATION/ADVANCED/INFO_NWINFO/TOP"
CONSUMER_STATUS = "/PRESENTATION/HTML/TOP/PRTINFO.HTML"
#: Epson's language cookie: 1 = English for both language settings.
ENGLISH = {"EPSON_COOKIE_LANG": "lang_b&1/lang_a&1"}
#: Panes of the consumer page that are its network status.
CONSUMER_NETWORK_PANES = ("info-network", "info-wfd")


class WebConfigUnreachable(InfraError):
    """Web Config did not answer (connection refused, timeout, TLS failure)."""


class WebConfigPageError(DeviceError):
    """Web Config answered, but not with the status page (an HTTP error, a login form, no values)."""


@dataclass(frozen=True)
class StatusPages:
    """The two status pages as read; on consumer models both come from the one PRTINFO page."""

    base_url: str
    layout: str
    product: InfoPage
    network: InfoPage


def read_status_pages(base_url: str, *, verify: bool | str = True, timeout: float = 10.0,
                      session: requests.Session | None = None) -> StatusPages:
    """Product Status and Network Status of the device at ``base_url`` (``http://192.0.2.10``)."""
    base = base_url.rstrip("/")
    http = session or requests.Session()
    if session is None:
        http.trust_env = False  # a lab's proxy variables must not send loopback or device traffic elsewhere
    try:
        product_response = _get(http, base + PRODUCT_STATUS, verify, timeout)
        if product_response.status_code == 404:
            consumer = _page(_get(http, base + CONSUMER_STATUS, verify, timeout), "Product Status (PRTINFO.HTML)")
            network = tuple(s for s in consumer.sections if s.id in CONSUMER_NETWORK_PANES)
            product = tuple(s for s in consumer.sections if s.id not in CONSUMER_NETWORK_PANES)
            return StatusPages(base, consumer.layout, replace(consumer, sections=product),
                               replace(consumer, title="Network Status", sections=network))
        product_page = _page(product_response, "Product Status")
        network_page = _page(_get(http, base + NETWORK_STATUS, verify, timeout), "Network Status")
        return StatusPages(base, product_page.layout, product_page, network_page)
    finally:
        if session is None:
            http.close()


def _get(http: requests.Session, url: str, verify: bool | str, timeout: float) -> requests.Response:
    try:
        with warnings.catch_warnings():
            if verify is False:  # the caller chose it; one warning per page would only be noise
                warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
            return http.get(url, cookies=ENGLISH, verify=verify, timeout=timeout)
    except requests.exceptions.SSLError as exc:
        raise WebConfigUnreachable(f"{url}: TLS failed ({_reason(exc)}); devices use self-signed certificates: "
                                   "give their CA bundle, or turn verification off") from None
    except requests.RequestException as exc:
        raise WebConfigUnreachable(f"{url}: {type(exc).__name__}: {_reason(exc)}") from None


def _page(response: requests.Response, name: str) -> InfoPage:
    if response.status_code != 200:
        raise WebConfigPageError(f"{response.url}: {name} answered HTTP {response.status_code}")
    page = parse_info_page(response.text)
    if page.login_required:
        raise WebConfigPageError(f"{response.url}: {name} asks for the administrator login (it is public on "
                                 "Epson devices; is this the right page?)")
    if not page.sections:
        raise WebConfigPageError(f"{response.url}: {name} shows no 'key : value' pairs the reader knows "
                                 f"(title {page.title or page.product or '(none)'!r})")
    return page


def _reason(exc: Exception) -> str:
    """The socket-level reason of a requests error (``[Errno 111] Connection refused``) when it names one."""
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\][^'\")]*", text)
    return errno.group(0).strip() if errno else text[:300]
