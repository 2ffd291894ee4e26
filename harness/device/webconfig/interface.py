"""Network > Network Interface: the standard or the extended network (models with an extended network).

The guide's §3 caution: OAuth2 works on the standard network only; the device refuses the combination.
"""

from __future__ import annotations

from typing import Literal, cast

from harness.device.webconfig.base import WebConfigPage
from harness.reporting.steps import step

NetworkChoice = Literal["Standard Network", "Extended Network"]


class NetworkInterfacePage(WebConfigPage):
    page_key = "network_interface"

    @step("{device}: read {self.title}")
    def read(self) -> NetworkChoice | None:
        self.open()
        return cast(NetworkChoice | None, self.checked("network"))

    @step("{device}: choose {network} on {self.title}")
    def choose(self, network: NetworkChoice) -> tuple[str, ...]:
        """Choose ``network`` and click OK; a refusal raises, quoting the page."""
        self.open()
        self.check("network", network)
        return self.submit("ok")
