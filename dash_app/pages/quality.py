"""Data quality: the latest Great Expectations runs across the platform, with their reports."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from dash_app import queries
from tallyflow.settings import get_settings

dash.register_page(__name__, path="/quality", name="Data quality", title="Data quality")

layout = html.Div([
    html.H1("Data quality"),
    html.P("Every check Great Expectations ran lately: registrations before an election "
           "opens, the tally's aggregates after each batch, and certification."),
    html.Div(id="quality-runs"),
    dcc.Interval(id="quality-refresh", interval=10_000),
])


def runs_table(rows: list[dict]) -> html.Table | html.P:
    if not rows:
        return html.P("No check has run yet.")
    return html.Table(
        [html.Tr([html.Th("When (UTC)"), html.Th("Election"), html.Th("Suite"),
                  html.Th("Result"), html.Th("Failed"), html.Th("Report")])]
        + [html.Tr([
            html.Td(row["validated_at"].strftime("%Y-%m-%d %H:%M:%S")),
            html.Td(row["election_id"] or ""),
            html.Td(row["suite_name"]),
            html.Td("passed" if row["is_passed"] else "FAILED"),
            html.Td(f"{row['failed_expectations']} of {row['evaluated_expectations']}"),
            html.Td(html.A("report", href=f"/data-docs/{row['report_url']}")
                    if row["report_url"] else ""),
        ]) for row in rows]
    )


@callback(Output("quality-runs", "children"), Input("quality-refresh", "n_intervals"))
def refresh(_n_intervals: int | None):
    return runs_table(queries.recent_validation_runs(get_settings().site_database_url))
