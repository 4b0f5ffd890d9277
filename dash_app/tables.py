"""Tables the pages show, built from plain rows: testable without a browser or an app."""

from __future__ import annotations

import re

from dash import dcc, html

from dash_app.ballot_styles import has_method_split
from tallyflow.feeds.small_cells import suppress
from tallyflow.tabulation.reporting import VOTE_METHOD_NAMES, VOTE_METHODS


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


# What Markdown reads as markup inside a table cell (block syntax cannot start there).
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()!|<>~])")


def _md(text: str) -> str:
    """Text as a Markdown table cell shows it literally (its markup characters escaped)."""
    text = " ".join(str(text).split())
    return MARKDOWN_SPECIAL.sub(r"\\\1", text) if MARKDOWN_SPECIAL.search(text) else text


def _table(caption: str, headers: list[str], rows: list[list], right: tuple = ()) -> list:
    """A chart's table equivalent, as Markdown: one string however many rows (a thousand
    precincts as Dash components would cost a poll 200 ms). ``right``: columns of numbers."""
    lines = ["| " + " | ".join(_md(h) for h in headers) + " |",
             "|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|"]
    lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in rows]
    return [html.P(caption, className="caption"),
            dcc.Markdown("\n".join(lines), className="data-table")]


def precinct_table(contest: dict, regions: list[dict], leaders: dict[str, str],
                   hidden_leaders: set[str] = frozenset(),
                   district: set[str] | None = None) -> list:
    """The leader map as a table: each precinct's ballots, turnout and leader (a precinct
    under the small-cell threshold shows none of them; one in ``hidden_leaders`` no
    leader; one outside the contest's ``district`` says the contest is not on its
    ballots)."""
    cells = suppress({r["region_id"]: int(r["ballots"]) for r in regions})
    names = {o["option_id"]: o["name"] for o in contest["options"]}
    rows = []
    for region in regions:
        cell = cells[region["region_id"]]
        hidden = cell.value is None
        turnout = ("" if hidden or not region["registered"] else
                   f"{100 * int(region['ballots']) / int(region['registered']):.1f}%")
        rid = region["region_id"]
        leader = ("not on the ballot here" if district is not None and rid not in district
                  else "hidden: too few ballots" if hidden or rid in hidden_leaders
                  else names.get(leaders.get(rid, ""), "no votes yet"))
        rows.append([region["name"], cell.label, turnout, leader])
    return _table(f"{contest['title']}: precinct by precinct",
                  ["Precinct", "Ballots", "Turnout", "Leader"], rows, right=(1, 2))


def _count(cell: int | str) -> str:
    return f"{cell:,}" if isinstance(cell, int) else cell


def methods_table(contest: dict) -> list:
    """The vote-method chart as a table: each option's votes by vote method, and the
    contest's ballots by vote method ("< k" where the small-cell rule hides them)."""
    rows = [[o["name"], *(_count(o["by_vote_method"][m]) for m in VOTE_METHODS)]
            for o in contest["options"]]
    rows.append(["Ballots", *(_count(contest["ballots_by_vote_method"][m])
                              for m in VOTE_METHODS)])
    return _table(f"{contest['title']}: votes by vote method",
                  ["Option", *(VOTE_METHOD_NAMES[m] for m in VOTE_METHODS)], rows,
                  right=tuple(range(1, len(VOTE_METHODS) + 1)))


def chart_tables(raw: dict, contests: list[dict]) -> dict:
    """The table equivalent of every other chart: votes and shares per contest, votes by
    vote method, ballots over time, turnout by age and gender, rejected ballots."""
    tables = {}
    for contest in contests:
        if contest["total_votes"] is not None:
            tables[f"{contest['contest_id']}-table"] = _table(
                f"{contest['title']}: votes", ["Option", "Votes", "Share"],
                [[o["name"], f"{o['votes']:,}", f"{o['share']:.1f}%"]
                 for o in contest["options"]], right=(1, 2))
        if has_method_split(contest):
            tables[f"{contest['contest_id']}-methods-table"] = methods_table(contest)
    tables["timeline-table"] = _table(
        "Ballots counted over time (UTC)", ["Minute", "Ballots counted"],
        [[f"{r['minute']:%Y-%m-%d %H:%M}", f"{int(r['cumulative_ballots']):,}"]
         for r in raw["timeline"]], right=(1,))
    cells = suppress({f"{r['age_band']}/{r['gender']}": int(r["ballots"])
                      for r in raw["demographics"]})
    tables["demographics-table"] = _table(
        "Turnout by age and gender", ["Age", "Gender", "Ballots"],
        [[*key.split("/"), cell.label] for key, cell in sorted(cells.items())], right=(2,))
    if raw["rejected"]:
        tables["rejected-table"] = _table(
            "Rejected ballots by reason", ["Reason", "Events"],
            [[r["reason"], f"{int(r['events']):,}"] for r in raw["rejected"]], right=(1,))
    return tables
