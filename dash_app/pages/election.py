"""Election results: headline, completeness, time series, map, turnout, rejects, quality."""

from __future__ import annotations

import hashlib
import json
import os
import re

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dash_app import figures
from dash_app.results import (
    UnknownElection,
    completeness,
    contest_results,
    freshness,
    is_embargoed,
    load_results,
    suppress,
)
from tallyflow.settings import get_settings

dash.register_page(__name__, path_template="/elections/<election_id>", name="Results",
                   title="Results")

ELECTION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
POLL_MS = int(os.environ.get("TALLYFLOW_SITE_POLL_MS", "2000"))


def not_found(election_id: str) -> html.Div:
    return html.Div([
        html.H1("No such election"),
        html.P(f"There is no election with the id “{election_id}”."),
        dcc.Link("See every election", href="/"),
    ], className="not-found")


def layout(election_id: str = "", **_query) -> html.Div:
    if not ELECTION_ID.match(election_id or ""):
        return not_found(election_id)
    return html.Div([
        dcc.Store(id="results-election", data=election_id),
        dcc.Store(id="results-version"),
        dcc.Interval(id="results-refresh", interval=POLL_MS),
        html.P(id="results-freshness", className="freshness"),
        html.Div(id="results-body"),
    ])


def _version(raw: dict) -> str:
    """What the page shows, summed up: unchanged means nothing to send."""
    shown = {k: v for k, v in raw.items() if k != "pipeline"}
    return hashlib.sha256(json.dumps(shown, default=str, sort_keys=True).encode()).hexdigest()


def _label(election: dict) -> html.Div:
    digest = election["certificate_sha256"]
    if digest:
        return html.Div([html.Strong("Official"), " results · certificate ",
                         html.A(html.Code(digest[:16] + "…"), title=f"SHA-256 {digest}",
                                href=f"/api/v1/elections/{election['election_id']}"
                                     "/certificate.html")],
                        className="label label-official", id="results-label")
    return html.Div([html.Strong("Unofficial"), " results: counting goes on until "
                     "the election is certified"], className="label label-unofficial",
                    id="results-label")


def _contest_section(contest: dict) -> html.Section:
    if contest["too_close"]:
        headline = (f"Too close to call: {contest['leader']} leads by "
                    f"{contest['margin_points']} points")
    elif contest["leader"]:
        headline = f"{contest['leader']} leads by {contest['margin_points']} points"
    else:
        headline = "No votes counted yet"
    details = [html.P(headline, className="headline",
                      id=f"results-{contest['contest_id']}-headline")]
    if contest["seats"] > 1:
        details.append(html.P(f"{contest['seats']} seats; leading: "
                              + ", ".join(contest["leading"])))
    if contest["kind"] == "yes_no":
        met = "met" if contest["threshold_met"] else "not met"
        details.append(html.P(f"Threshold {contest['threshold_share']}% yes: {met}"))
    details.append(html.P(f"{contest['ballots']:,} ballots; {contest['blank_ballots']:,} "
                          f"blank; {contest['overvoted_ballots']:,} overvoted"))
    return html.Section([
        html.H2(contest["title"]),
        *details,
        html.Div([
            dcc.Graph(figure=figures.totals_bar(contest), config={"displayModeBar": False},
                      id=f"results-{contest['contest_id']}-bar"),
            dcc.Graph(figure=figures.shares_donut(contest), config={"displayModeBar": False}),
        ], className="charts"),
    ], className="contest")


def results_body(raw: dict) -> html.Div:
    """The whole page for one election, from ``load_results``'s rows."""
    election = raw["election"]
    counted = completeness(raw)
    quality = raw["quality"][0] if raw["quality"] else None
    status = election["status"] + (" · test" if election["is_test"] else "")
    parts: list = [
        html.H1(election["title"]),
        html.P([html.Span(status, className=f"badge badge-{election['status']}"),
                f" Opens {election['opens_at']:%Y-%m-%d %H:%M} UTC, closes "
                f"{election['closes_at']:%Y-%m-%d %H:%M} UTC."]),
        _label(election),
        html.Div([
            html.Div([html.Strong(f"{counted['ballots']:,}"), " ballots counted"]),
            html.Div([html.Strong(f"{counted['turnout_percent']}%"), " turnout of ",
                      f"{counted['registered']:,} registered"]),
            html.Div([html.Strong(f"{counted['regions_reporting']} of {counted['regions']}"),
                      " precincts reporting"]),
        ], className="completeness", id="results-completeness"),
        html.P([
            "Data quality: ",
            html.Strong("checks pass" if quality and quality["status"] == "ok"
                        else "ON HOLD: a check failed" if quality else "not checked yet"),
            *([" · ", html.A("report", href=f"/data-docs/{quality['report_url']}")]
              if quality and quality["report_url"] else []),
        ], id="results-quality"),
    ]
    if is_embargoed(election):
        parts.append(html.P("This election embargoes its tallies: only turnout is shown "
                            "until it closes.", className="embargo"))
    else:
        contests = contest_results(raw)
        parts += [_contest_section(c) for c in contests]
        option_colours = {o["option_id"]: o["colour"] for o in contests[0]["options"]} \
            if contests else {}
        parts.append(html.Div([
            dcc.Graph(figure=figures.region_map(raw["regions"], "leader", option_colours)),
            dcc.Graph(figure=figures.region_map(raw["regions"], "turnout", option_colours)),
        ], className="charts"))
        parts.append(dcc.Graph(figure=figures.rejected_bar(raw["rejected"]))
                     if raw["rejected"] else html.P("No ballot has been rejected."))
    parts.append(dcc.Graph(figure=figures.timeline(raw["timeline"])))
    cells = suppress({f"{r['age_band']}/{r['gender']}": int(r["ballots"])
                      for r in raw["demographics"]})
    parts.append(dcc.Graph(figure=figures.demographics_bar(cells)))
    parts.append(html.P(["Voter roll fingerprint: ",
                         html.Code(election["roll_fingerprint"] or "not frozen yet")]))
    parts.append(html.P(dcc.Link("Download results (CSV)",
                                 href=f"/api/v1/elections/{election['election_id']}"
                                      "/results.csv", refresh=True)))
    return html.Div(parts)


def freshness_text(raw: dict) -> str:
    fresh = freshness(raw)
    if fresh is None:
        return "Not updated yet: no ballots counted."
    return (f"Updated {fresh['seconds_ago']} s ago; pipeline lag {fresh['lag'] or 0:,} "
            "events.")


@callback(Output("results-body", "children"), Output("results-version", "data"),
          Output("results-freshness", "children"),
          Input("results-refresh", "n_intervals"), State("results-election", "data"),
          State("results-version", "data"))
def refresh(_n_intervals: int | None, election_id: str, shown: str | None):
    """Freshness on every poll; the results only when the aggregates changed since what
    the browser shows."""
    settings = get_settings()
    try:
        raw = load_results(settings.site_database_url, election_id, settings.votes_topic)
    except UnknownElection:
        return not_found(election_id), None, ""
    version = _version(raw)
    if version == shown:
        return no_update, no_update, freshness_text(raw)
    return results_body(raw), version, freshness_text(raw)
