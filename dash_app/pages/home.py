"""Home: the elections on this platform and the health of the platform itself."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from dash_app import queries
from tallyflow.settings import get_settings

dash.register_page(__name__, path="/", name="Home")

layout = html.Div(
    [
        html.H1("Elections"),
        html.P("No elections yet.", id="home-elections-empty"),
        html.H2("Platform health"),
        html.Div(id="home-health-table"),
        dcc.Interval(id="home-refresh", interval=5_000),
    ]
)


def health_table(rows: list[dict]) -> html.Table | html.P:
    """A table of component health rows, or a note when no check has run yet."""
    if not rows:
        return html.P("No health check has run yet (the platform_health DAG records them).")
    return html.Table(
        [html.Tr([html.Th("Component"), html.Th("Healthy"), html.Th("Checked"), html.Th("Detail")])]
        + [
            html.Tr(
                [
                    html.Td(row["component"]),
                    html.Td("yes" if row["is_healthy"] else "NO"),
                    html.Td(row["checked_at"].strftime("%Y-%m-%d %H:%M:%S UTC")),
                    html.Td(row["detail"]),
                ]
            )
            for row in rows
        ]
    )


@callback(Output("home-health-table", "children"), Input("home-refresh", "n_intervals"))
def refresh_health(_n_intervals: int | None) -> html.Table | html.P:
    return health_table(queries.component_health(get_settings().database_url))
