"""The site shell: the Dash app, navigation and the page container. Pages live in pages/."""

from __future__ import annotations

import dash
from dash import Dash, dcc, html

from dash_app.api import api
from dash_app.security import protect

app = Dash(
    "dash_app",  # the package: pages import as dash_app.pages.*, however the site is started
    use_pages=True,
    title="Tallyflow",
    update_title=None,
    suppress_callback_exceptions=True,
)
# The page's language, for screen readers and translation tools.
app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1)
server = app.server
server.register_blueprint(api)


@server.get("/healthz")
def healthz() -> tuple[str, int]:
    return "ok", 200


@server.get("/data-docs/")
@server.get("/data-docs/<path:path>")
def data_docs(path: str = "index.html"):
    """The Great Expectations Data Docs site: the readable data-quality reports."""
    from flask import send_from_directory

    from tallyflow.settings import get_settings

    return send_from_directory(get_settings().data_docs_dir, path)


# The policy names Dash's inline scripts by their hashes.
protect(server, lambda: list(app.csp_hashes()))

app.layout = html.Div(
    [
        html.Header(
            [
                dcc.Link("Tallyflow", href="/", className="brand"),
                html.Nav(
                    [
                        dcc.Link(page["name"], href=page["relative_path"])
                        for page in dash.page_registry.values()
                        if not page.get("path_template")  # one page per election: no link
                    ]
                ),
            ],
            className="site-header",
        ),
        html.Main(dash.page_container),
    ]
)
