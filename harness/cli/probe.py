"""``epson-hil probe``: read a device as it is (Web Config status pages, SNMP), without logging in or changing it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from harness.device.errors import DeviceError, InfraError


def register(sub: Any) -> None:
    probe = sub.add_parser("probe", help="read a device's status pages and SNMP identity and status, changing nothing")
    probe.add_argument("--webconfig", metavar="URL",
                       help="the device's Web Config, e.g. http://192.0.2.10 (Product and Network Status pages)")
    probe.add_argument("--snmp", metavar="HOST[:PORT]", help="the device's SNMP agent (port 161 if not given)")
    probe.add_argument("--community", default="public", metavar="C", help="SNMP community (default: public)")
    probe.add_argument("--snmp-version", choices=("1", "2c"), default="2c", help="SNMP version (default: 2c)")
    probe.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                       help="per HTTP request and per SNMP try (default: 5)")
    probe.add_argument("--retries", type=int, default=1, metavar="N", help="SNMP retries after a timeout (default: 1)")
    trust = probe.add_mutually_exclusive_group()
    trust.add_argument("--ca-bundle", type=Path, metavar="FILE", help="verify Web Config's HTTPS certificate with FILE")
    trust.add_argument("--no-verify", action="store_true",
                       help="do not verify Web Config's HTTPS certificate (devices' certificates are self-signed)")
    probe.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    probe.set_defaults(func=run_probe)


def run_probe(args: argparse.Namespace) -> int:
    if not (args.webconfig or args.snmp):
        print("epson-hil probe: give --webconfig URL, --snmp HOST[:PORT], or both", file=sys.stderr)
        return 2
    if args.timeout <= 0 or args.retries < 0:
        print("epson-hil probe: --timeout must be positive and --retries not negative", file=sys.stderr)
        return 2
    result: dict[str, Any] = {}
    if args.webconfig:
        result["webconfig"] = read_webconfig(args)
    if args.snmp:
        try:
            result["snmp"] = read_snmp(args)
        except ValueError as exc:
            print(f"epson-hil probe: --snmp: {exc}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(render(result))
    return 1 if any("error" in part for part in result.values()) else 0


def read_webconfig(args: argparse.Namespace) -> dict[str, Any]:
    from harness.device.statuspages import read_status_pages

    verify: bool | str = str(args.ca_bundle) if args.ca_bundle else not args.no_verify
    try:
        pages = read_status_pages(args.webconfig, verify=verify, timeout=args.timeout)
    except (InfraError, DeviceError) as exc:
        return {"url": args.webconfig, "error": str(exc), "kind": _kind(exc)}
    return {
        "url": pages.base_url,
        "layout": pages.layout,
        "product_name": pages.product.product,
        "product": pages.product.values,
        "network": pages.network.values,
        "network_sections": [{"id": s.id, "label": s.label, "values": s.values} for s in pages.network.sections],
    }


def read_snmp(args: argparse.Namespace) -> dict[str, Any]:
    from harness.device.snmp import Community, parse_address, probe_sync

    host, port = parse_address(args.snmp)
    try:
        found = probe_sync(host, port, Community(args.community, args.snmp_version), timeout=args.timeout,
                           retries=args.retries)
    except (InfraError, DeviceError) as exc:
        return {"target": args.snmp, "error": str(exc), "kind": _kind(exc)}
    return found.to_dict()


def _kind(exc: Exception) -> str:
    """How a run would classify the failure."""
    return "infrastructure" if isinstance(exc, InfraError) else "device"


# --- text output -----------------------------------------------------------------------------------------
def render(result: dict[str, Any]) -> str:
    lines: list[str] = []
    if "webconfig" in result:
        lines += _render_webconfig(result["webconfig"])
    if "snmp" in result:
        lines += _render_snmp(result["snmp"])
    return "\n".join(lines)


def _render_webconfig(wc: dict[str, Any]) -> list[str]:
    if "error" in wc:
        return [f"Web Config {wc['url']}: FAILED ({wc['kind']}): {wc['error']}"]
    lines = [f"Web Config {wc['url']} ({wc['layout']} pages, {wc['product_name'] or 'no product name'})",
             "  Product Status"]
    lines += _pairs(wc["product"], indent=4)
    for section in wc["network_sections"]:
        lines.append(f"  Network Status: {section['label'] or section['id'] or 'values'}")
        lines += _pairs(section["values"], indent=4)
    return lines


def _render_snmp(snmp: dict[str, Any]) -> list[str]:
    if "error" in snmp:
        return [f"SNMP {snmp['target']}: FAILED ({snmp['kind']}): {snmp['error']}"]
    identity, status, st2 = snmp["identity"], snmp["status"], snmp["st2"]
    lines = [f"SNMP {snmp['target']} (v{snmp['version']})", "  Identity"]
    lines += _pairs({k: v for k, v in identity.items() if v is not None}, indent=4)
    errors = ", ".join(status["detected_errors"]) or "none"
    lines += ["  Status",
              f"    device {status['device_status_name'] or '-'}, printer {status['printer_status_name'] or '-'}, "
              f"detected errors: {errors}"]
    if status["display"]:
        lines.append(f"    panel: {' / '.join(status['display'])}")
    lines.append(f"  Alerts ({len(snmp['alerts'])})")
    lines += [f"    #{a['index']} {a['severity']} {a['code_name']}: {a['description']}" for a in snmp["alerts"]]
    lines.append(f"  Supplies ({len(snmp['supplies'])})")
    lines += [f"    {s['description']}: {'-' if s['percent'] is None else str(s['percent']) + ' %'}"
              for s in snmp["supplies"]]
    if st2 is not None:
        error = f", error {st2['error']}" if st2["error"] else ""
        lines.append(f"  ST2 status: {st2['status']}{error}")
    lines += [f"  problem: {p}" for p in snmp["problems"]]
    return lines


def _pairs(values: dict[str, Any], indent: int) -> list[str]:
    if not values:
        return [" " * indent + "(none)"]
    width = max(len(k) for k in values)
    return [" " * indent + f"{k.ljust(width)}  {' / '.join(str(v).splitlines()) if v != '' else '-'}"
            for k, v in values.items()]
