"""Verify: whether and when the ballot behind a receipt was counted, never what it chose.

The lookup is the casting API's (``GET /api/v1/receipts/{receipt}``), not the site's
read-only role: receipts live beside the check-ins, which that role cannot see.
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html

from dash_app.api import receipt_answer

dash.register_page(__name__, path="/verify", name="Verify", title="Verify your ballot")


def layout(receipt: str = "", **_query) -> html.Div:
    return html.Div([
        html.H1("Was my ballot counted?"),
        html.P("Enter the receipt you got when you voted. The answer says whether and when "
               "your ballot was counted, never what you chose."),
        dcc.Input(id="verify-receipt", value=receipt, placeholder="64-character receipt",
                  maxLength=64, style={"width": "100%", "fontFamily": "monospace"},
                  debounce=True),
        html.Button("Check", id="verify-check", n_clicks=1 if receipt else 0),
        html.Div(id="verify-answer", role="status"),
    ])


def answer_text(status: int, body: dict) -> html.Div:
    """The lookup's answer as a person reads it."""
    if status != 200:
        return html.Div([html.Strong(body.get("title", "Not found")), ": ",
                         "; ".join(body.get("errors", []))], className="label label-unofficial")
    when = {"counted": f" Counted at {body['counted_at']} (to the minute).",
            "rejected": "", "pending": " Check again in a few seconds.",
            "waiting": ""}[body["status"]]
    return html.Div([html.Strong(body["note"]), when,
                     html.Br(), f"Election {body['election_id']}; received "
                     f"{body['received_at'] or 'at an unknown time'}."],
                    className="label " + ("label-official" if body["status"] == "counted"
                                          else "label-unofficial"))


@callback(Output("verify-answer", "children"), Input("verify-check", "n_clicks"),
          Input("verify-receipt", "value"), State("verify-receipt", "value"))
def check(n_clicks: int, _typed: str | None, receipt: str | None):
    if not n_clicks or not receipt:
        return ""
    status, body = receipt_answer(receipt.strip().lower())
    return answer_text(status, body)
