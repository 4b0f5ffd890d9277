"""Tables the pages show, built from plain rows: testable without a browser or an app."""

from __future__ import annotations

from dash import dcc, html


def elections_table(rows: list[dict]) -> html.Table | html.P:
    """Every election with its status and times, or a note when there is none."""
    if not rows:
        return html.P("No elections yet: create one from the Airflow UI (create_election) "
                      "or with `tallyflow election create`.")
    return html.Table(
        [html.Tr([html.Th("Election"), html.Th("Status"), html.Th("Opens (UTC)"),
                  html.Th("Closes (UTC)"), html.Th("Results")])]
        + [
            html.Tr(
                [
                    html.Td(dcc.Link(row["title"], href=f"/elections/{row['election_id']}")),
                    html.Td([html.Span(row["status"], className=f"badge badge-{row['status']}"),
                             " test" if row["is_test"] else ""]),
                    html.Td(row["opens_at"].strftime("%Y-%m-%d %H:%M")),
                    html.Td(row["closes_at"].strftime("%Y-%m-%d %H:%M")),
                    html.Td(results_label(row)),
                ]
            )
            for row in rows
        ]
    )


def results_label(row: dict) -> html.Span:
    """"Official" with the certificate digest once certified, "Unofficial" before."""
    digest = row.get("certificate_sha256")
    if not digest:
        return html.Span("Unofficial", className="label-unofficial")
    return html.Span([
        html.Strong("Official"), " · certificate ",
        html.A(html.Code(digest[:16] + "…"), title=f"SHA-256 {digest}",
               href=f"/api/v1/elections/{row['election_id']}/certificate.html"),
    ], className="label-official")


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
