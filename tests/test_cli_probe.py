"""``epson-hil probe`` end to end: pages in Epson's real layouts and the virtual device's Web Config over HTTP(S),
the virtual SNMP agent over UDP, and what the command says when either does not answer."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cli_support import epson_hil
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from webconfig_support import served

from harness.asgi import LoopThread, ThreadedAsgiServer
from harness.cli import main
from harness.clock import VirtualClock
from harness.pki import LabCA
from harness.sim.device import DeviceIdentity, VirtualDevice
from harness.sim.models import get_model
from harness.sim.resolver import Resolver
from harness.sim.snmp import DeviceFacts, SnmpAgent
from harness.sim.status import DetectedError, DeviceState, DeviceStatus

PAGES = Path(__file__).parent / "data" / "webconfig"
ADVANCED = "/PRESENTATION/ADVANCED"


@dataclass
class Site:
    """A small web server serving our real-layout pages; it notes every request it gets."""

    url: str
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, language cookie


def site_app(pages: dict[str, str], seen: list[tuple[str, str, str]]) -> Starlette:
    async def any_page(request: Request) -> Response:
        seen.append((request.method, request.url.path, request.cookies.get("EPSON_COOKIE_LANG", "")))
        name = pages.get(request.url.path)
        if name is None:
            return HTMLResponse("<html><body><p>The requested page was not found.</p></body></html>", 404)
        return HTMLResponse((PAGES / name).read_text(encoding="utf-8"), headers={"Server": "EPSON-HTTP"})

    return Starlette(routes=[Route("/{path:path}", any_page, methods=["GET", "POST"])])


ADVANCED_PAGES = {f"{ADVANCED}/INFO_PRTINFO/TOP": "advanced-INFO_PRTINFO.html",
                  f"{ADVANCED}/INFO_NWINFO/TOP": "advanced-INFO_NWINFO.html"}
CONSUMER_PAGES = {"/PRESENTATION/HTML/TOP/PRTINFO.HTML": "consumer-PRTINFO.HTML"}


@pytest.fixture(scope="module")
def advanced_site() -> Iterator[Site]:
    seen: list[tuple[str, str, str]] = []
    with ThreadedAsgiServer(site_app(ADVANCED_PAGES, seen)) as server:
        yield Site(server.url, seen)


@pytest.fixture(scope="module")
def loop() -> Iterator[LoopThread]:
    running = LoopThread("probe-cli-test-agents")
    yield running
    running.close()


@pytest.fixture(scope="module")
def snmp_agent(loop: LoopThread) -> Iterator[SnmpAgent]:
    spec = get_model("WF-C5790")
    agent = SnmpAgent(DeviceFacts(spec.unit(), DeviceStatus.for_model(spec)))
    loop.run(agent.start())
    yield agent
    loop.run(agent.stop())


@pytest.fixture
def silent_ports() -> Iterator[tuple[int, int]]:
    """A TCP port that refuses connections and a UDP port that never answers (both held for the test)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        udp.bind(("127.0.0.1", 0))
        yield tcp.getsockname()[1], udp.getsockname()[1]


def probe_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["probe", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


# --- pages in the real layouts ----------------------------------------------------------------------------------
def test_json_reads_a_real_layout_device_and_its_snmp_agent(capsys: pytest.CaptureFixture[str], advanced_site: Site,
                                                            snmp_agent: SnmpAgent) -> None:
    advanced_site.requests.clear()
    code, out = probe_json(capsys, "--webconfig", advanced_site.url, "--snmp", f"127.0.0.1:{snmp_agent.port}")
    assert code == 0
    wc = out["webconfig"]
    assert (wc["layout"], wc["product_name"]) == ("advanced", "WF-C9999 Series")
    assert wc["network"]["IP Address"] == "192.0.2.44" and wc["network"]["MAC Address"] == "0E:6A:7F:00:00:A1"
    assert wc["network"]["Device Name"] == "EPSON7F00A1" and wc["network"]["Current Status"] == "Signed in"
    assert wc["product"]["Serial Number"] == "X9ZZ012345" and wc["product"]["Firmware"] == "08.12.QA05R3"
    assert [s["label"] for s in wc["network_sections"]] == ["Network", "Email Server", "Wi-Fi Direct"]
    unit = snmp_agent.device.identity
    identity = out["snmp"]["identity"]
    assert {k: identity[k] for k in ("model", "serial", "sys_descr", "sys_object_id", "mac")} == {
        "model": "WF-C5790", "serial": unit.serial, "sys_descr": unit.model.sys_descr,
        "sys_object_id": unit.model.sys_object_id, "mac": unit.mac}
    assert out["snmp"]["status"]["device_status_name"] == "running"
    assert out["snmp"]["version"] == "2c" and out["snmp"]["st2"]["status"] == "idle"
    assert advanced_site.requests == [("GET", f"{ADVANCED}/INFO_PRTINFO/TOP", "lang_b&1/lang_a&1"),
                                      ("GET", f"{ADVANCED}/INFO_NWINFO/TOP", "lang_b&1/lang_a&1")], \
        "two GETs in English, nothing else: the probe changes nothing"


def test_a_consumer_model_is_read_from_its_one_product_status_page(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[tuple[str, str, str]] = []
    with ThreadedAsgiServer(site_app(CONSUMER_PAGES, seen)) as server:
        code, out = probe_json(capsys, "--webconfig", server.url + "/")
    assert code == 0
    wc = out["webconfig"]
    assert (wc["layout"], wc["product_name"]) == ("consumer", "XP-9999 Series")
    assert wc["product"] == {"Printer Status": "Paper out or loaded incorrectly.", "Scanner Status": "Available.",
                             "Other Status": ""}
    assert wc["network"]["IP Address"] == "198.51.100.23" and wc["network"]["Connection Method"] == "Not Set"
    assert [p for _, p, _ in seen] == [f"{ADVANCED}/INFO_PRTINFO/TOP", "/PRESENTATION/HTML/TOP/PRTINFO.HTML"]
    assert "snmp" not in out


def test_text_output_lists_every_page_section_and_the_snmp_findings(capsys: pytest.CaptureFixture[str],
                                                                   advanced_site: Site, loop: LoopThread) -> None:
    spec = get_model("WF-C5790")
    status = DeviceStatus.for_model(spec)
    status.set_state(DeviceState.DOWN)
    status.set_errors(DetectedError.JAMMED)
    status.raise_alert("Paper jam.")
    agent = SnmpAgent(DeviceFacts(spec.unit(), status))
    loop.run(agent.start())
    try:
        code = main(["probe", "--webconfig", advanced_site.url, "--snmp", f"127.0.0.1:{agent.port}",
                     "--snmp-version", "1"])
    finally:
        loop.run(agent.stop())
    text = capsys.readouterr().out
    assert code == 0
    for expected in ("Web Config " + advanced_site.url, "  Product Status", "Network Status: Email Server",
                     "IP Address", "192.0.2.44", "IPv6 Stateless Address 1", "SNMP 127.0.0.1:", "(v1)",
                     "detected errors: jammed", "#1 warning other: Paper jam.", "ST2 status: error, error paper jam"):
        assert expected in text, expected


# --- the virtual device ---------------------------------------------------------------------------------------------
def test_console_script_probes_the_virtual_devices_web_config_and_agent(loop: LoopThread) -> None:
    spec = get_model("AM-C4000")
    unit = spec.unit()
    identity = DeviceIdentity(name="probe", model=spec.model, serial=unit.serial, mac=unit.mac, firmware=unit.firmware,
                              capabilities=frozenset(str(c) for c in spec.capabilities),
                              client_id="00000000-0000-0000-0000-000000000000")
    device = VirtualDevice(identity, VirtualClock(), Resolver(), status=DeviceStatus.for_model(spec))
    agent = SnmpAgent(DeviceFacts(unit, device.status))
    loop.run(agent.start())
    try:
        with served(device) as web:
            result = subprocess.run(epson_hil("probe", "--webconfig", web.url, "--snmp", f"127.0.0.1:{agent.port}",
                                              "--json"), capture_output=True, text=True, timeout=120)
    finally:
        loop.run(agent.stop())
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    wc, snmp = out["webconfig"], out["snmp"]
    assert wc["product"]["Serial Number"] == snmp["identity"]["serial"] == unit.serial
    assert wc["product"]["MAC Address"] == wc["network"]["MAC Address"] == snmp["identity"]["mac"] == unit.mac
    assert wc["product"]["Firmware"].endswith(snmp["identity"]["firmware"])
    assert wc["product"]["Model"] == snmp["identity"]["product_name"] == spec.product_name
    assert wc["network"]["IP Address"] == "127.0.0.1"
    labels = [s["label"] for s in wc["network_sections"]]
    assert labels == ["Network", "Email Server", "Fax Server"], "AM-C4000 has the fax server's e-mail settings"
    assert wc["network_sections"][1]["values"]["Authentication Method"] == "Off"


# --- failures and usage ---------------------------------------------------------------------------------------------
def test_unreachable_web_config_and_agent_are_reported_as_infrastructure(capsys: pytest.CaptureFixture[str],
                                                                        silent_ports: tuple[int, int]) -> None:
    tcp, udp = silent_ports
    args = ["--webconfig", f"http://127.0.0.1:{tcp}", "--snmp", f"127.0.0.1:{udp}", "--timeout", "0.2",
            "--retries", "0"]
    code, out = probe_json(capsys, *args)
    assert code == 1
    assert out["webconfig"]["kind"] == out["snmp"]["kind"] == "infrastructure"
    assert "Connection refused" in out["webconfig"]["error"]
    assert "no SNMP answer" in out["snmp"]["error"] and "1 try of 0.2 s" in out["snmp"]["error"]
    assert main(["probe", *args]) == 1
    text = capsys.readouterr().out
    assert "Web Config http://127.0.0.1:" in text and "FAILED (infrastructure)" in text


def test_a_page_that_is_not_a_status_page_is_a_device_finding(capsys: pytest.CaptureFixture[str]) -> None:
    login = ('<html><body class="contents"><div class="wrap"><div class="header-main">Product Status</div>'
             '<form><input type="password" name="INPUTT_PASSWORD"></form></div></body></html>')

    async def page(request: Request) -> Response:
        return HTMLResponse(login)

    with ThreadedAsgiServer(Starlette(routes=[Route("/{path:path}", page)])) as server:
        code, out = probe_json(capsys, "--webconfig", server.url)
    assert code == 1 and out["webconfig"]["kind"] == "device"
    assert "asks for the administrator login" in out["webconfig"]["error"]


def test_https_web_config_is_verified_unless_told_otherwise(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ca = LabCA.create("probe test CA")
    cert, key = ca.issue(("127.0.0.1",)).write(tmp_path, "webconfig")
    bundle = ca.write_bundle(tmp_path / "ca.pem")
    with ThreadedAsgiServer(site_app(ADVANCED_PAGES, []), certfile=cert, keyfile=key) as server:
        assert server.url.startswith("https://")
        code, out = probe_json(capsys, "--webconfig", server.url)
        assert code == 1 and out["webconfig"]["kind"] == "infrastructure"
        assert "TLS failed" in out["webconfig"]["error"] and "CERTIFICATE_VERIFY_FAILED" in out["webconfig"]["error"]
        for trust in (["--no-verify"], ["--ca-bundle", str(bundle)]):
            code, out = probe_json(capsys, "--webconfig", server.url, *trust)
            assert code == 0 and out["webconfig"]["network"]["IP Address"] == "192.0.2.44", trust


@pytest.mark.parametrize(("args", "message"), [
    ([], "give --webconfig URL, --snmp HOST[:PORT], or both"),
    (["--snmp", "127.0.0.1:99999"], "--snmp: SNMP port must be 1-65535"),
    (["--snmp", "127.0.0.1", "--timeout", "0"], "--timeout must be positive"),
])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    assert main(["probe", *args]) == 2
    assert message in capsys.readouterr().err
