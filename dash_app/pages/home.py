"""Home: the elections on this platform and the health of the platform itself."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from dash_app import queries, tables
from tallyflow.settings import get_settings

dash.register_page(__name__, path="/", name="Home")

layout = html.Div(
    [
        html.H1("Elections"),
        html.Div(id="home-elections-table"),
        html.H2("Platform health"),
        html.Div(id="home-health-table"),
        dcc.Interval(id="home-refresh", interval=5_000),
    ]
)


@callback(Output("home-elections-table", "children"), Input("home-refresh", "n_intervals"))
def refresh_elections(_n_intervals: int | None) -> html.Table | html.P:
    return tables.elections_table(queries.public_elections(get_settings().site_database_url))


@callback(Output("home-health-table", "children"), Input("home-refresh", "n_intervals"))
def refresh_health(_n_intervals: int | None) -> html.Table | html.P:
    return tables.health_table(queries.component_health(get_settings().site_database_url))
