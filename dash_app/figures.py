"""Plotly figures for the results page, from plain rows: testable without a browser.

Figures are plain dicts (``{"data": [...], "layout": {...}}``), which ``dcc.Graph`` takes
as they are: building ``plotly.graph_objects`` figures validates every property and cost
the page most of its 50 ms budget.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from tallyflow.feeds.small_cells import suppress
from tallyflow.tabulation.reporting import VOTE_METHOD_NAMES, VOTE_METHODS

LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "font": {"size": 15},
          "paper_bgcolor": "white", "plot_bgcolor": "white"}


Figure = dict[str, Any]


def plain(text: str) -> str:
    """``text`` as Plotly shows it literally. Plotly reads a subset of HTML in every label,
    title and hover text (``<b>``, ``<a href>``, ``<br>``...); names come from election
    definitions, so their markup characters are sent as entities, which Plotly displays
    as the characters themselves."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _figure(title: str, height: int = 320, **layout: Any) -> Figure:
    # Axes make room for their labels (the margins alone would cut "1,200" to "0").
    for axis in ("xaxis", "yaxis"):
        layout[axis] = {"automargin": True, **layout.get(axis, {})}
    return {"data": [], "layout": {"title": {"text": title, "x": 0}, "height": height,
                                   **LAYOUT, **layout}}


def totals_bar(contest: dict[str, Any]) -> Figure:
    """Votes per option, largest first, in party (or colour-blind-safe) colours."""
    options = sorted(contest["options"], key=lambda o: o["votes"])
    what = "first preferences" if contest.get("rounds") else "votes"
    figure = _figure(f"{plain(contest['title'])}: {what}", height=80 + 44 * len(options),
                     xaxis={"showgrid": True, "gridcolor": "#ddd", "automargin": True},
                     yaxis={"automargin": True})
    figure["data"].append({
        "type": "bar", "orientation": "h",
        "x": [o["votes"] for o in options], "y": [plain(o["name"]) for o in options],
        "marker": {"color": [o["colour"] for o in options]},
        "text": [f"{o['votes']:,} ({o['share']:.1f}%)" for o in options],
        "textposition": "auto", "hovertemplate": "%{y}: %{x:,} votes<extra></extra>",
    })
    return figure


# One colour per vote method (Okabe-Ito, as the options' fallback colours).
METHOD_COLOURS = {"in_person": "#0072b2", "mail": "#e69f00", "online": "#009e73"}


def methods_bar(contest: dict[str, Any]) -> Figure:
    """Each option's votes by vote method, a bar per method: a method hidden by the
    small-cell rule is drawn as 0 with its "< k" label."""
    figure = _figure(f"{plain(contest['title'])}: votes by vote method", barmode="group",
                     legend={"orientation": "h"},
                     yaxis={"showgrid": True, "gridcolor": "#ddd"})
    names = [plain(o["name"]) for o in contest["options"]]
    for method in VOTE_METHODS:
        cells = [o["by_vote_method"][method] for o in contest["options"]]
        figure["data"].append({
            "type": "bar", "name": VOTE_METHOD_NAMES[method], "x": names,
            "y": [n if isinstance(n, int) else 0 for n in cells],
            "text": [f"{n:,}" if isinstance(n, int) else n for n in cells],
            "marker": {"color": METHOD_COLOURS[method]},
            "hovertemplate": f"%{{x}}, {VOTE_METHOD_NAMES[method]}: %{{text}}<extra></extra>",
        })
    return figure


def transfers_sankey(contest: dict[str, Any]) -> Figure:
    """A ranked contest's rounds as a Sankey: each candidate in each round is a node, and
    the ballots that stay, move on from an eliminated candidate, or exhaust are links."""
    names = {o["option_id"]: plain(o["name"]) for o in contest["options"]}
    colours = {o["option_id"]: o["colour"] for o in contest["options"]}
    labels, node_colours, index = [], [], {}

    def node(round_number: int, who: str) -> int:
        if (round_number, who) not in index:
            index[(round_number, who)] = len(labels)
            labels.append(names.get(who, "Exhausted"))  # its column is its round
            node_colours.append(colours.get(who, "#999999"))
        return index[(round_number, who)]

    sources, targets, values = [], [], []
    rounds = contest["rounds"]
    for current in rounds[:-1]:  # the last round sends nothing on
        n = current["round"]
        moved = set(current["eliminated"]) | set(current["elected"])
        for who, votes in current["tally"].items():
            if who not in moved and votes:
                sources.append(node(n, who))
                targets.append(node(n + 1, who))
                values.append(votes)
        if current["exhausted"]:  # exhausted ballots stay exhausted: one row of nodes
            sources.append(node(n, "exhausted"))
            targets.append(node(n + 1, "exhausted"))
            values.append(current["exhausted"])
        for who in moved:
            for to, votes in current["transfers"].get(who, {}).items():
                if votes:
                    sources.append(node(n, who))
                    targets.append(node(n + 1, to if to in names else "exhausted"))
                    values.append(votes)
    figure = _figure(f"{plain(contest['title'])}: how the ballots moved, round by round",
                     height=360)
    figure["data"].append({
        "type": "sankey", "arrangement": "snap",
        "node": {"label": labels, "color": node_colours, "pad": 12},
        "link": {"source": sources, "target": targets, "value": values},
    })
    return figure


def shares_donut(contest: dict[str, Any]) -> Figure:
    """Each option's share of the votes."""
    figure = _figure(f"{plain(contest['title'])}: shares")
    figure["data"].append({
        "type": "pie", "hole": 0.55, "sort": False, "textinfo": "percent",
        "labels": [plain(o["name"]) for o in contest["options"]],
        "values": [o["votes"] for o in contest["options"]],
        "marker": {"colors": [o["colour"] for o in contest["options"]]},
        "hovertemplate": "%{label}: %{value:,}<extra></extra>",
    })
    return figure


def timeline(rows: list[dict[str, Any]]) -> Figure:
    """Cumulative ballots counted, minute by minute."""
    # Ranges given, not left to autorange: one point alone gets a range of a millisecond,
    # and a patched figure would keep the range fitted to the old numbers.
    top = max([int(r["cumulative_ballots"]) for r in rows], default=0)
    span = ([(rows[0]["minute"] - timedelta(minutes=5)).isoformat(),
             (rows[-1]["minute"] + timedelta(minutes=1)).isoformat()] if rows else None)
    figure = _figure("Ballots counted over time",
                     yaxis={"range": [0, max(10, top) * 1.1], "gridcolor": "#ddd"},
                     xaxis={"range": span, "tickformat": "%H:%M"} if span
                     else {"tickformat": "%H:%M"})
    figure["data"].append({
        "type": "scatter", "mode": "lines+markers", "line": {"color": "#0072b2", "width": 3},
        "x": [r["minute"].isoformat() for r in rows],
        "y": [int(r["cumulative_ballots"]) for r in rows],
        "hovertemplate": "%{x|%H:%M} UTC: %{y:,} ballots<extra></extra>",
    })
    return figure


def demographics_bar(cells: dict[str, Any]) -> Figure:
    """Turnout by age band, one bar per gender; hidden small cells are left out and noted."""
    figure = _figure("Turnout by age band and gender", barmode="group",
                     legend={"orientation": "h"})
    genders = sorted({key.split("/")[1] for key in cells})
    bands = sorted({key.split("/")[0] for key in cells})
    colours = {"female": "#cc79a7", "male": "#0072b2", "other": "#009e73",
               "unknown": "#999999"}
    for gender in genders:
        keys = [f"{band}/{gender}" for band in bands]
        figure["data"].append({
            "type": "bar", "name": gender, "x": bands,
            "y": [cells[k].value if k in cells else 0 for k in keys],
            "text": [cells[k].label if k in cells else "" for k in keys],
            "marker": {"color": colours.get(gender, "#999999")},
        })
    return figure


def rejected_bar(rows: list[dict[str, Any]]) -> Figure:
    """Rejected ballots by reason."""
    figure = _figure("Rejected ballots by reason")
    figure["data"].append({
        "type": "bar", "x": [r["reason"] for r in rows], "y": [int(r["events"]) for r in rows],
        "marker": {"color": "#d55e00"}, "text": [f"{int(r['events']):,}" for r in rows],
    })
    return figure


def tile_positions(region_ids: list[str]) -> dict[str, tuple[float, float]]:
    """A deterministic hexagonal tile layout: regions in id order, row by row."""
    columns = max(1, math.ceil(math.sqrt(len(region_ids))))
    return {region: ((i % columns) + (0.5 if (i // columns) % 2 else 0.0),
                     -(i // columns) * 0.87)
            for i, region in enumerate(sorted(region_ids))}


def region_map(regions: list[dict[str, Any]], colour_by: str,
               option_colours: dict[str, str], small_cell: int | None = None,
               leaders: dict[str, str] | None = None, title: str | None = None,
               hidden_leaders: set[str] | None = None) -> Figure:
    """The precincts coloured by leading option (``leaders``: precinct -> option id) or by
    turnout: a choropleth of their GeoJSON geometry when every precinct has one, else
    deterministic hexagon tiles.

    A precinct with fewer than ``small_cell`` (``TALLYFLOW_SMALL_CELL``) ballots shows
    neither its count nor its leader (with so few ballots the leader could tell how someone
    voted): it is grey. ``hidden_leaders``, when given, are the precincts whose leader is
    hidden (a contest's own rule: ``tallyflow.feeds.small_cells.hidden_precincts``).
    """
    cells = suppress({r["region_id"]: int(r["ballots"]) for r in regions}, small_cell)
    hidden = {key for key, cell in cells.items() if cell.value is None}
    hover = [f"{plain(r['name'])}: {cells[r['region_id']].label} ballots of "
             f"{int(r['registered']):,} registered" for r in regions]
    if colour_by == "leader":
        hidden = hidden if hidden_leaders is None else hidden | hidden_leaders
        colours = ["#dddddd" if r["region_id"] in hidden
                   else option_colours.get((leaders or {}).get(r["region_id"], ""),
                                           "#dddddd")
                   for r in regions]
        colouring: dict[str, Any] = {"color": colours}
        labels = ["#111" if colour == "#dddddd" else "white" for colour in colours]
    else:
        turnout = [None if r["region_id"] in hidden or not r["registered"]
                   else round(100 * int(r["ballots"]) / int(r["registered"]), 1)
                   for r in regions]
        # One light-to-mid blue: readable under dark labels, and for colour-blind readers.
        colouring = {"color": turnout, "colorscale": [[0, "#f7fbff"], [1, "#4292c6"]],
                     "cmin": 0, "cmax": 100, "colorbar": {"title": "%"}}
        labels = ["#111"] * len(regions)
    title = title or "Precincts: " + ("leader" if colour_by == "leader" else "turnout")
    if regions and all(r.get("geometry") for r in regions):
        return _choropleth(title, regions, colour_by, colouring, hover)
    figure = _figure(title, height=360, xaxis={"visible": False},
                     yaxis={"visible": False, "scaleanchor": "x"})
    positions = tile_positions([r["region_id"] for r in regions])
    figure["data"].append({
        "type": "scatter", "mode": "markers+text",
        "x": [positions[r["region_id"]][0] for r in regions],
        "y": [positions[r["region_id"]][1] for r in regions],
        "text": [plain(r["name"]) for r in regions], "textposition": "middle center",
        "textfont": {"color": labels, "size": 12},
        "marker": {"symbol": "hexagon", "size": 70, "line": {"color": "white", "width": 2},
                   **colouring},
        "hovertext": hover, "hoverinfo": "text",
    })
    return figure


def _choropleth(title: str, regions: list[dict[str, Any]], colour_by: str,
                colouring: dict[str, Any], hover: list[str]) -> Figure:
    geojson = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": r["region_id"], "geometry": r["geometry"],
         "properties": {"name": r["name"]}} for r in regions]}
    figure = _figure(title, height=420, geo={"fitbounds": "locations", "visible": False})
    trace: dict[str, Any] = {
        "type": "choropleth", "geojson": geojson, "featureidkey": "id",
        "locations": [r["region_id"] for r in regions], "hovertext": hover,
        "hoverinfo": "text", "marker": {"line": {"color": "white", "width": 1}},
    }
    if colour_by == "leader":
        # A discrete colour per precinct: z is its index, the scale maps index to colour.
        colours = colouring["color"]
        steps = max(1, len(colours) - 1)
        trace.update(z=list(range(len(colours))), showscale=False, colorscale=[
            [i / steps, colour] for i, colour in enumerate(colours)] if len(colours) > 1
            else [[0, colours[0]], [1, colours[0]]])
    else:
        trace.update(z=colouring["color"], colorscale=colouring["colorscale"],
                     zmin=0, zmax=100, colorbar=colouring["colorbar"])
    figure["data"].append(trace)
    return figure
