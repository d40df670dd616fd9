"""Serves the player page at ``/player/`` with its vendored scripts (hls.js, dash.js from npm)."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

VENDOR = {
    "hls.min.js": Path("node_modules/hls.js/dist/hls.min.js"),
    "dash.all.min.js": Path("node_modules/dashjs/dist/dash.all.min.js"),
}
HEADERS = {"Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}


def default_player_dir() -> Path | None:
    """``player/`` of the source checkout this package runs from, when there is one."""
    candidate = Path(__file__).resolve().parents[3] / "player"
    return candidate if (candidate / "index.html").is_file() else None


def routes(player_dir: Path) -> list[Route | Mount]:
    async def vendor(request: Request) -> Response:
        relative = VENDOR.get(request.path_params["name"])
        path = player_dir / relative if relative else None
        if path is None or not path.is_file():
            return PlainTextResponse(
                "Not found (run the set-up command, which installs the player's npm packages).", 404
            )
        return FileResponse(path, media_type="text/javascript", headers=HEADERS)

    return [
        Route("/player/vendor/{name}", vendor, methods=["GET"]),
        Mount("/player", app=StaticFiles(directory=player_dir, html=True), name="player"),
    ]
