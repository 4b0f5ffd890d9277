"""The site shell: the Dash app, navigation and the page container. Pages live in pages/."""

from __future__ import annotations

import dash
from dash import Dash, dcc, html

app = Dash(
    __name__,
    use_pages=True,
    title="Tallyflow",
    update_title=None,
    suppress_callback_exceptions=True,
)
server = app.server


@server.get("/healthz")
def healthz() -> tuple[str, int]:
    return "ok", 200


app.layout = html.Div(
    [
        html.Header(
            [
                dcc.Link("Tallyflow", href="/", className="brand"),
                html.Nav(
                    [
                        dcc.Link(page["name"], href=page["relative_path"])
                        for page in dash.page_registry.values()
                    ]
                ),
            ],
            className="site-header",
        ),
        html.Main(dash.page_container),
    ]
)
