"""Vote: a simple ballot. The voter enters their credential, which shows their ballot (the
contests of their precinct and party), marks the contests and casts the ballot through
the casting API; the page shows the receipt and how to verify it.

Which contests are on the voter's ballot comes from the casting API's own code
(``dash_app.api.ballot_style_answer``, as ``POST /api/v1/elections/{id}/ballot-style``),
and the ballot goes through it too (``dash_app.api.cast_answer``, as a
``POST /api/v1/elections/{id}/ballots`` would); the layout of the ballot (contests,
options, precincts) is read through the site's read-only role.
"""

from __future__ import annotations

import uuid

import dash
from dash import ALL, Input, Output, State, callback, dcc, html

from dash_app import queries
from dash_app.api import ballot_style_answer, cast_answer
from tallyflow.settings import get_settings
from tallyflow.votes.event import CREDENTIAL_TEXT

dash.register_page(__name__, path="/vote", name="Vote", title="Vote")

# What the page shows in place of the contests until a credential is typed: each voter
# sees their own ballot, the contests of their precinct and party.
CREDENTIAL_NOTE = "Enter your credential to see your ballot."


def layout(election: str = "", **_query) -> html.Div:
    open_elections = [e for e in queries.public_elections(get_settings().site_database_url)
                      if e["status"] == "open"]
    return html.Div([
        html.H1("Cast your ballot"),
        # Radio buttons, not Dash's dropdown: its keyboard focus is on an aria-hidden field.
        html.Fieldset([
            html.Legend("Election"),
            dcc.RadioItems(id="vote-election",
                           options=[{"label": e["title"], "value": e["election_id"]}
                                    for e in open_elections],
                           value=election or (open_elections[0]["election_id"]
                                              if open_elections else None)),
            *([] if open_elections else [html.P("No election is open.")]),
        ]),
        html.Label("Your voting credential (from your registration letter)",
                   htmlFor="vote-credential"),
        dcc.Input(id="vote-credential", type="password", maxLength=32,
                  style={"width": "100%", "fontFamily": "monospace"}),
        html.Div(id="vote-ballot"),
        html.Div(html.P(CREDENTIAL_NOTE), id="vote-contests"),
        html.Button("Cast my ballot", id="vote-cast", n_clicks=0),
        dcc.Store(id="vote-event-id", data=str(uuid.uuid4())),
        html.Div(id="vote-answer", role="status"),
    ])


def ballot_form(ballot: dict) -> html.Fieldset:
    """Where the voter votes: the election's precincts as one group of radio buttons."""
    return html.Fieldset([
        html.Legend("Your polling place"),
        dcc.RadioItems(id="vote-precinct", inline=True,
                       options=[{"label": p["name"], "value": p["region_id"]}
                                for p in ballot["precincts"]]),
    ])


def contest_fields(contests: list[dict]) -> html.Div:
    """The contests as form fields: one choice, or up to N, or yes/no, or a ranking."""
    fields: list = []
    for contest in contests:
        choices = [{"label": o["name"] + (f" ({o['party']})" if o["party"] else ""),
                    "value": o["option_id"]} for o in contest["options"]]
        field_id = {"type": "vote-contest", "contest": contest["contest_id"]}
        if contest["kind"] == "ranked":
            fields.append(_ranking_fields(contest, choices))
            continue
        if contest["kind"] == "approval" or contest["seats"] > 1:
            most = len(choices) if contest["kind"] == "approval" else contest["seats"]
            control = dcc.Checklist(id=field_id, options=choices, value=[])
            hint = f"Choose up to {most}."
        else:
            control = dcc.RadioItems(id=field_id, options=choices, value=None)
            hint = "Choose one."
        fields.append(html.Fieldset([html.Legend(contest["title"]), html.P(hint), control]))
    return html.Div(fields)


def _ranking_fields(contest: dict, choices: list[dict]) -> html.Fieldset:
    """A ranked contest as one group of radio buttons per rank (the grid of a paper ranked
    ballot): first choice, second, and so on, each chosen with the keyboard (arrow keys) or
    a pointer, no dragging; "no one" leaves a rank blank."""
    ranks = []
    for rank in range(len(choices)):
        field_id = {"type": "vote-rank", "contest": contest["contest_id"], "rank": rank}
        label_id = f"vote-rank-{contest['contest_id']}-{rank}"
        ranks.append(html.Fieldset([
            html.Legend(f"Choice {rank + 1}", id=label_id),
            dcc.RadioItems(id=field_id, options=[*choices, {"label": "no one", "value": ""}],
                           value=None, inline=True),
        ], className="rank"))
    return html.Fieldset([
        html.Legend(contest["title"]),
        html.P("Rank the candidates in order of preference: your first choice, then your "
               "second, and so on. Rank as many or as few as you like; a candidate counts "
               "once, at your highest rank for them."),
        *ranks,
    ])


def ranked_marks(values: list, ids: list[dict]) -> dict[str, list[str]]:
    """Each ranked contest's selections in rank order, blank ranks left out."""
    marks: dict[str, list[tuple[int, str]]] = {}
    for field_id, value in zip(ids, values, strict=True):
        marks.setdefault(field_id["contest"], [])
        if value:
            marks[field_id["contest"]].append((field_id["rank"], value))
    return {contest: [v for _rank, v in sorted(picked)] for contest, picked in marks.items()}


@callback(Output("vote-ballot", "children"), Input("vote-election", "value"))
def show_ballot(election_id: str | None):
    if not election_id:
        return html.P("No election is open for voting now.")
    ballot = queries.ballot_layout(get_settings().site_database_url, election_id)
    if ballot is None:
        return html.P("No such election.")
    return ballot_form(ballot)


def voters_contests(ballot: dict, on_ballot: list[str]) -> list[dict]:
    """The contests of ``ballot`` (``queries.ballot_layout``) whose ids are ``on_ballot``,
    in ballot order."""
    wanted = set(on_ballot)
    return [c for c in ballot["contests"] if c["contest_id"] in wanted]


@callback(Output("vote-contests", "children"), Input("vote-election", "value"),
          Input("vote-credential", "value"))
def show_contests(election_id: str | None, credential: str | None):
    """The contests on the ballot of the voter whose credential is typed, once it is one."""
    credential = (credential or "").strip().lower()
    if not election_id or not CREDENTIAL_TEXT.fullmatch(credential):
        return html.P(CREDENTIAL_NOTE)
    status, body = ballot_style_answer(election_id, credential)
    if status != 200:
        return answer_text(status, body)
    ballot = queries.ballot_layout(get_settings().site_database_url, election_id)
    contests = voters_contests(ballot, body["contests"]) if ballot else []
    if not contests:
        return html.P("There is no contest on your ballot.")
    return contest_fields(contests)


def ballot_body(credential: str, precinct: str | None, marks: dict[str, object],
                event_id: str) -> dict:
    """The casting API's request body from what the voter marked."""
    contests = []
    for contest_id, value in marks.items():
        selections = value if isinstance(value, list) else ([value] if value else [])
        contests.append({"contest_id": contest_id, "selections": selections})
    return {"event_id": event_id, "credential": (credential or "").strip().lower(),
            "region_id": precinct or "", "contests": contests}


def answer_text(status: int, body: dict) -> html.Div:
    if status == 202:
        receipt = body["receipt"]
        return html.Div([
            html.Strong("Your ballot was received."), " Keep this receipt to check that it "
            "was counted: ", html.Code(receipt), html.Br(),
            dcc.Link("Check it now", href=f"/verify?receipt={receipt}", id="vote-verify-link"),
        ], className="label label-official")
    return html.Div([html.Strong(body.get("title", "Not cast")), ": ",
                     "; ".join(str(e) for e in body.get("errors", []))],
                    className="label label-unofficial")


@callback(Output("vote-answer", "children"), Input("vote-cast", "n_clicks"),
          State("vote-election", "value"), State("vote-credential", "value"),
          State("vote-precinct", "value"),
          State({"type": "vote-contest", "contest": ALL}, "value"),
          State({"type": "vote-contest", "contest": ALL}, "id"),
          State({"type": "vote-rank", "contest": ALL, "rank": ALL}, "value"),
          State({"type": "vote-rank", "contest": ALL, "rank": ALL}, "id"),
          State("vote-event-id", "data"), prevent_initial_call=True)
def cast(_n_clicks: int, election_id: str | None, credential: str | None,
         precinct: str | None, values: list, ids: list, rank_values: list, rank_ids: list,
         event_id: str):
    if not election_id:
        return answer_text(409, {"title": "No election is open"})
    marks = {i["contest"]: v for i, v in zip(ids, values, strict=True)}
    marks.update(ranked_marks(rank_values, rank_ids))
    status, body = cast_answer(election_id, ballot_body(credential or "", precinct, marks,
                                                        event_id))
    return answer_text(status, body)
