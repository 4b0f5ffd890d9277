"""Election results: headline, completeness, time series, map, turnout, rejects, quality."""

from __future__ import annotations

import hashlib
import json

import dash
from dash import ALL, Input, Output, Patch, State, callback, ctx, dcc, html, no_update

from dash_app import figures
from dash_app.ballot_styles import has_method_split, map_precincts
from dash_app.results import (
    UnknownElection,
    completeness,
    contest_results,
    freshness,
    is_election_id,
    is_embargoed,
    load_results,
    results_document,
)
from dash_app.tables import chart_tables, precinct_table
from tallyflow.feeds.small_cells import suppress
from tallyflow.settings import get_settings

dash.register_page(__name__, path_template="/elections/<election_id>", name="Results",
                   title="Results")

def not_found(election_id: str) -> html.Div:
    return html.Div([
        html.H1("No such election"),
        html.P(f"There is no election with the id “{election_id}”."),
        dcc.Link("See every election", href="/"),
    ], className="not-found")


def layout(election_id: str = "", **_query) -> html.Div:
    if not is_election_id(election_id):
        return not_found(election_id)
    return html.Div([
        dcc.Store(id="results-election", data=election_id),
        dcc.Store(id="results-version"),
        dcc.Store(id="results-map-contest"),
        dcc.Interval(id="results-refresh", interval=get_settings().site_poll_ms),
        html.P(id="results-freshness", className="freshness"),
        html.Div(id="results-body"),
    ])


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


def _headline(contest: dict) -> str:
    if contest.get("rounds"):
        rounds = len(contest["rounds"])
        after = f"after {rounds} round{'s' if rounds > 1 else ''}"
        if contest["seats"] > 1:
            verb = "lead" if contest.get("note") else "elected"
            return f"{', '.join(contest['leading'])} {verb} {after}"
        verb = "leads" if contest.get("note") else "won"
        return f"{contest['leader']} {verb} {after}"
    if contest.get("note"):
        return contest["note"]
    if contest["too_close"]:
        return (f"Too close to call: {contest['leader']} leads by "
                f"{contest['margin_points']} points")
    if contest["leader"]:
        return f"{contest['leader']} leads by {contest['margin_points']} points"
    return "No votes counted yet"


def _rounds_table(contest: dict) -> html.Table:
    """Votes per candidate in each round; who was elected or eliminated; exhausted."""
    names = {o["option_id"]: o["name"] for o in contest["options"]}
    rounds = contest["rounds"]
    header = html.Tr([html.Th("Candidate")] + [html.Th(f"Round {r['round']}")
                                               for r in rounds])
    rows = [html.Tr([html.Td(name)] + [html.Td(f"{r['tally'][cid]:,}" if cid in r["tally"]
                                               else "") for r in rounds])
            for cid, name in names.items()]
    rows.append(html.Tr([html.Td("Exhausted")] + [html.Td(f"{r['exhausted']:,}")
                                                  for r in rounds]))
    rows.append(html.Tr([html.Td("Decided")] + [html.Td("; ".join(
        [f"elected {names[c]}" for c in r["elected"]]
        + [f"eliminated {names[c]}" for c in r["eliminated"]])) for r in rounds]))
    return html.Table([html.Thead(header), html.Tbody(rows)], className="rounds")


def _contest_details(contest: dict) -> list:
    details = []
    if contest.get("rounds"):
        if contest.get("note"):
            details.append(html.P(contest["note"], className="provisional"))
        details.append(_rounds_table(contest))
    if contest["seats"] > 1:
        details.append(html.P(f"{contest['seats']} seats; leading: "
                              + ", ".join(contest["leading"])))
    if contest["kind"] == "yes_no":
        met = "met" if contest["threshold_met"] else "not met"
        details.append(html.P(f"Threshold {contest['threshold_share']}% yes: {met}"))
    details.append(html.P([
        f"{contest['ballots']:,} ballots; {contest['blank_ballots']:,} blank; "
        f"{contest['overvoted_ballots']:,} overvoted; {contest['off_ballot_ballots']:,} ",
        html.Abbr("off-ballot", title="marked by voters whose ballot did not carry this "
                                      "contest: counted for no option")]))
    details.append(html.P(_electorate(contest)))
    return details


def _electorate(contest: dict) -> str:
    """Turnout of the contest's own electorate, and its district's precincts reporting."""
    counted = contest["completeness"]
    text = (f"{counted['turnout_percent']}% turnout of {counted['registered']:,} registered"
            + (f" {contest['party']} voters" if contest["party"] else "")
            + (f" in {contest['district']}" if contest["district"] else ""))
    if contest["district"]:
        text += (f"; {counted['regions_reporting']} of {counted['regions']} precincts "
                 "reporting")
    return text


def page_parts(raw: dict) -> dict:
    """What the page shows that moves with the count, by name: ``graphs`` (figures) and
    ``texts`` (children); and ``structure``, which sections there are at all."""
    election = raw["election"]
    counted = completeness(raw)
    quality = raw["quality"][0] if raw["quality"] else None
    texts: dict = {
        "label": _label(election),
        "completeness": [
            html.Div([html.Strong(f"{counted['ballots']:,}"), " ballots counted",
                      *([" · ", html.Strong(f"{counted['ballots_waiting_for_group']:,}"),
                         " more received, ",
                         html.Abbr("waiting for their group",
                                   title="counted with the next ballots of their precinct, "
                                         "or at close, so that no ballot can be told "
                                         "apart (ballot secrecy)")]
                        if counted["ballots_waiting_for_group"] else [])]),
            html.Div([html.Strong(f"{counted['turnout_percent']}%"), " turnout of ",
                      f"{counted['registered']:,} registered"]),
            html.Div([html.Strong(f"{counted['regions_reporting']} of {counted['regions']}"),
                      " precincts reporting"]),
        ],
        "quality": [
            "Data quality: ",
            html.Strong("checks pass" if quality and quality["status"] == "ok"
                        else "ON HOLD: a check failed" if quality else "not checked yet"),
            *([" · ", html.A("report", href=f"/data-docs/{quality['report_url']}")]
              if quality and quality["report_url"] else []),
        ],
    }
    graphs: dict = {}
    embargoed = is_embargoed(election)
    contests = [] if embargoed else contest_results(raw)
    for contest in contests:
        cid = contest["contest_id"]
        texts[f"{cid}-headline"] = _headline(contest)
        texts[f"{cid}-details"] = _contest_details(contest)
        if contest["total_votes"] is not None:  # a ranked contest has no votes to draw yet
            graphs[f"{cid}-bar"] = figures.totals_bar(contest)
            graphs[f"{cid}-donut"] = figures.shares_donut(contest)
        if has_method_split(contest):
            graphs[f"{cid}-methods"] = figures.methods_bar(contest)
        if contest.get("rounds"):
            graphs[f"{cid}-sankey"] = figures.transfers_sankey(contest)
    if not embargoed:
        _add_maps(raw, contests, graphs, texts)
        if raw["rejected"]:
            graphs["rejected"] = figures.rejected_bar(raw["rejected"])
    texts.update(chart_tables(raw, [] if embargoed else contests))
    graphs["timeline"] = figures.timeline(raw["timeline"])
    graphs["demographics"] = figures.demographics_bar(suppress(
        {f"{r['age_band']}/{r['gender']}": int(r["ballots"]) for r in raw["demographics"]}))
    structure = [election["status"], embargoed, [c["contest_id"] for c in contests],
                 bool(raw["rejected"]), raw.get("map_contest")]
    return {"structure": structure, "graphs": graphs, "texts": texts,
            "contests": [(c["contest_id"], c["heading"]) for c in contests],
            "mappable": [(c["contest_id"], c["heading"]) for c in contests
                         if c["kind"] != "ranked"],
            "map_contest": raw.get("map_contest")}


def _add_maps(raw: dict, contests: list[dict], graphs: dict, texts: dict) -> None:
    """The turnout map; the leader map of the contest chosen for it, and its table."""
    mapped = next((c for c in contests if c["contest_id"] == raw.get("map_contest")), None)
    if mapped is not None:
        leaders = {r["region_id"]: r["leader_option_id"]
                   for r in raw.get("precinct_leaders") or []}
        district, hidden = map_precincts(raw, mapped)
        graphs["map-leader"] = figures.region_map(
            raw["regions"], "leader", {o["option_id"]: o["colour"] for o in mapped["options"]},
            leaders=leaders, title=f"{figures.plain(mapped['heading'])}: leader by precinct",
            hidden_leaders=hidden)
        texts["precinct-table"] = precinct_table(mapped, raw["regions"], leaders, hidden,
                                                 district)
    graphs["map-turnout"] = figures.region_map(raw["regions"], "turnout", {})


def _graph(name: str, figure: dict) -> dcc.Graph:
    return dcc.Graph(id={"type": "results-graph", "name": name}, figure=figure,
                     config={"displayModeBar": False})


def _text(name: str, children, tag=html.Div, inner=html.Span, **kwargs):
    """A block that moves with the count (``inner``, updated by the poll), inside a
    wrapper with a plain id."""
    return tag(inner(id={"type": "results-text", "name": name}, children=children, **kwargs),
               id=f"results-{name}")


def results_body(raw: dict, parts: dict | None = None) -> html.Div:
    """The whole page for one election, from ``load_results``'s rows."""
    parts = parts or page_parts(raw)
    election, graphs, texts = raw["election"], parts["graphs"], parts["texts"]
    status = election["status"] + (" · test" if election["is_test"] else "")
    body: list = [
        html.H1(election["title"]),
        html.P([html.Span(status, className=f"badge badge-{election['status']}"),
                f" Opens {election['opens_at']:%Y-%m-%d %H:%M} UTC, closes "
                f"{election['closes_at']:%Y-%m-%d %H:%M} UTC."]),
        _text("label", texts["label"]),
        _text("completeness", texts["completeness"], inner=html.Div,
              className="completeness"),
        _text("quality", texts["quality"], tag=html.P),
    ]
    if parts["structure"][1]:
        body.append(html.P("This election embargoes its tallies: only turnout is shown "
                           "until it closes.", className="embargo"))
    for cid, title in parts["contests"]:
        body.append(html.Section([
            html.H2(title),
            _text(f"{cid}-headline", texts[f"{cid}-headline"], tag=html.P,
                  className="headline"),
            _text(f"{cid}-details", texts[f"{cid}-details"]),
            html.Div([_graph(name, graphs[name]) for name in (f"{cid}-bar", f"{cid}-donut")
                      if name in graphs], className="charts"),
            *_table_details(f"{cid}-table", texts),
            *([_graph(f"{cid}-methods", graphs[f"{cid}-methods"]),
               *_table_details(f"{cid}-methods-table", texts)]
              if f"{cid}-methods" in graphs else []),
            *([_graph(f"{cid}-sankey", graphs[f"{cid}-sankey"])]
              if f"{cid}-sankey" in graphs else []),
        ], className="contest"))
    if "map-turnout" in graphs:
        body.append(_precincts_section(parts))
        body += ([_graph("rejected", graphs["rejected"]), *_table_details("rejected-table",
                                                                          texts)]
                 if "rejected" in graphs else [html.P("No ballot has been rejected.")])
    body += [_graph("timeline", graphs["timeline"]), *_table_details("timeline-table", texts),
             _graph("demographics", graphs["demographics"]),
             *_table_details("demographics-table", texts)]
    body.append(html.P(["Voter roll fingerprint: ",
                        html.Code(election["roll_fingerprint"] or "not frozen yet")]))
    body.append(html.P(dcc.Link("Download results (CSV)",
                                href=f"/api/v1/elections/{election['election_id']}"
                                     "/results.csv", refresh=True)))
    return html.Div(body)


def _table_details(name: str, texts: dict) -> list:
    """A chart's table, behind a disclosure (keyboard: Enter or Space)."""
    if name not in texts:
        return []
    return [html.Details([html.Summary("Table of this chart"),
                          _text(name, texts[name], inner=html.Div)])]


def _precincts_section(parts: dict) -> html.Section:
    """The precincts: the leader map of one contest, chosen with a group of radio buttons
    (keyboard: arrow keys), with its table equivalent; and the turnout map."""
    graphs, texts = parts["graphs"], parts["texts"]
    chooser = [html.Fieldset([
        html.Legend("Contest on the map"),
        dcc.RadioItems(id="map-contest", options=[{"label": title, "value": cid}
                                                  for cid, title in parts["mappable"]],
                       value=parts["map_contest"], inline=True),
    ], className="map-contest")] if len(parts["mappable"]) > 1 else []
    leader = [_graph("map-leader", graphs["map-leader"]),
              *_table_details("precinct-table", texts)] if "map-leader" in graphs else []
    return html.Section([html.H2("Precincts"), *chooser,
                         html.Div([html.Div(leader), _graph("map-turnout",
                                                            graphs["map-turnout"])],
                                  className="charts")], className="precincts-section")


@callback(Output("results-map-contest", "data"), Input("map-contest", "value"),
          prevent_initial_call=True)
def choose_map(chosen: str):
    """The reader chose another contest for the map: the page is redrawn with it."""
    return chosen


def _digest(value) -> str:
    text = json.dumps(value, sort_keys=True, default=lambda o: o.to_plotly_json()
                      if hasattr(o, "to_plotly_json") else str(o))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def plan_refresh(raw: dict, shown: dict | None, graph_names: list[str],
                 text_names: list[str]) -> tuple:
    """What one poll sends: (body, graph updates, text updates, version).

    The whole body only when the page's sections change; otherwise a ``Patch`` of the
    data of each figure whose numbers moved and the children of each text that did, and
    ``no_update`` for everything else.
    """
    parts = page_parts(raw)
    version = {"structure": _digest(parts["structure"]),
               "graphs": {n: _digest(f["data"]) for n, f in parts["graphs"].items()},
               "texts": {n: _digest(c) for n, c in parts["texts"].items()}}
    unchanged_graphs, unchanged_texts = [no_update] * len(graph_names), \
        [no_update] * len(text_names)
    if (shown is None or shown.get("structure") != version["structure"]
            or set(graph_names) != set(parts["graphs"])
            or set(text_names) != set(parts["texts"])):
        return results_body(raw, parts), unchanged_graphs, unchanged_texts, version
    graph_updates = []
    for name in graph_names:
        if shown["graphs"].get(name) == version["graphs"][name]:
            graph_updates.append(no_update)
        else:
            # Data and layout: a layout kept from the last render would keep its axis
            # ranges, fitted to the old numbers.
            patch = Patch()
            patch["data"] = parts["graphs"][name]["data"]
            patch["layout"] = parts["graphs"][name]["layout"]
            graph_updates.append(patch)
    text_updates = [no_update if shown["texts"].get(name) == version["texts"][name]
                    else parts["texts"][name] for name in text_names]
    return no_update, graph_updates, text_updates, version


def freshness_text(raw: dict) -> str:
    fresh = freshness(raw)
    if fresh is None:
        return "Not updated yet: no ballots counted."
    text = (f"Updated {fresh['seconds_ago']} s ago; pipeline lag {fresh['lag'] or 0:,} "
            "events.")
    if fresh["log_resets"]:
        at = fresh["last_log_reset_at"]
        text += (f" The broker's log was replaced {fresh['log_resets']} time(s), last at "
                 f"{at:%H:%M:%S} UTC; the tally re-based onto it and counts its new events.")
    return text


@callback(Output("results-body", "children"),
          Output({"type": "results-graph", "name": ALL}, "figure"),
          Output({"type": "results-text", "name": ALL}, "children"),
          Output("results-version", "data"),
          Output("results-freshness", "children"),
          Input("results-refresh", "n_intervals"), Input("results-map-contest", "data"),
          State("results-election", "data"), State("results-version", "data"))
def refresh(_n_intervals: int | None, map_contest: str | None, election_id: str,
            shown: dict | None):
    """Every poll: the freshness line, and of the results only what changed since what
    the browser shows (``plan_refresh``)."""
    graph_names = [o["id"]["name"] for o in ctx.outputs_list[1]]
    text_names = [o["id"]["name"] for o in ctx.outputs_list[2]]
    settings = get_settings()
    try:
        raw = load_results(settings.site_database_url, election_id, settings.votes_topic,
                           map_contest=map_contest)
    except UnknownElection:
        return (not_found(election_id), [no_update] * len(graph_names),
                [no_update] * len(text_names), None, "")
    body, graphs, texts, version = plan_refresh(raw, shown, graph_names, text_names)
    published = publish_shown(raw)
    return body, graphs, texts, version, (f"{freshness_text(raw)} Published version "
                                          f"{published.version}.")


def publish_shown(raw: dict):
    """What the page shows is published: the results export of these rows becomes the
    feed's next version when it changed (``tallyflow.feeds.publish``)."""
    from tallyflow.feeds.publish import publish

    return publish(get_settings().site_database_url, raw["election"]["election_id"],
                   results_document(raw))
