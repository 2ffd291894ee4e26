"""The virtual devices' part of the lab's control API: the remote panel, printed sheets, power."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from harness.msft.control import ApiError, Body, read_body
from harness.sim.fleet import DeviceFleet, HostedDevice
from harness.sim.panel import Panel, PanelError


class PanelAction(Body):
    action: str = Field(min_length=1, max_length=100)
    args: dict[str, str] = Field(default_factory=dict)


def device_routes(fleet: DeviceFleet) -> list[BaseRoute]:
    """Routes under ``/devices`` for the control app (same guard: loopback and bearer token)."""

    def hosted(request: Request) -> HostedDevice:
        name = request.path_params["name"]
        try:
            return fleet.get(name)
        except KeyError:
            raise ApiError(404, "not_found", f"name: no virtual device {name!r}", field="name") from None

    def panel_of(device: HostedDevice) -> Panel:
        if device.panel is None:
            raise ApiError(404, "not_found", f"{device.device.identity.model} has no control panel", field="name")
        return device.panel

    async def list_devices(request: Request) -> Response:
        entries = [{k: v for k, v in e.items() if k != "admin_password"} for e in fleet.lab_entries()]
        return JSONResponse({"devices": entries})

    async def get_panel(request: Request) -> Response:
        panel = panel_of(hosted(request))
        screen = await asyncio.to_thread(panel.screen)
        return JSONResponse(screen.as_dict())

    async def act_on_panel(request: Request) -> Response:
        panel = panel_of(hosted(request))
        body = await read_body(request, PanelAction)
        try:
            # Actions may send mail through the tier, which shares this loop: never block it.
            screen = await asyncio.to_thread(panel.act, body.action, **body.args)
        except PanelError as exc:
            raise ApiError(409, "not_available", str(exc), field="action") from None
        except TypeError as exc:
            raise ApiError(422, "invalid_field", f"args: {exc}", field="args") from None
        return JSONResponse(screen.as_dict())

    async def status_sheet(request: Request) -> Response:
        pdf = panel_of(hosted(request)).status_sheet
        if pdf is None:
            raise ApiError(404, "not_found", "no status sheet has been printed from the panel yet")
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": 'attachment; filename="status-sheet.pdf"'})

    async def power_cycle(request: Request) -> Response:
        device = hosted(request)
        await asyncio.to_thread(device.power_cycle)
        return JSONResponse({"name": device.device.identity.name, "boot_id": device.device.boot_id})

    async def status(request: Request) -> Response:
        snap = hosted(request).device.status.snapshot()
        data: dict[str, Any] = {"state": str(snap.state), "alerts": [a.description for a in snap.alerts],
                                "display": list(snap.display)}
        return JSONResponse(data)

    return [
        Route("/devices", list_devices, methods=["GET"]),
        Route("/devices/{name}/panel", get_panel, methods=["GET"]),
        Route("/devices/{name}/panel", act_on_panel, methods=["POST"]),
        Route("/devices/{name}/status-sheet", status_sheet, methods=["GET"]),
        Route("/devices/{name}/power-cycle", power_cycle, methods=["POST"]),
        Route("/devices/{name}/status", status, methods=["GET"]),
    ]
