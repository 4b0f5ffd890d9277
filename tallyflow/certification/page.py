"""The certificate as a page a person can read and print."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from tallyflow.tabulation.reporting import VOTE_METHOD_NAMES, VOTE_METHODS, contest_heading


def certificate_html(certificate: Mapping[str, Any], digest: str) -> str:
    """The certificate as a page a person can read and print; every value escaped."""
    parts = _head(certificate["election"], digest)
    for contest in certificate["contests"]:
        parts += _contest(contest)
    parts += _figures(certificate)
    return "\n".join(parts)


def _head(election: Mapping[str, Any], digest: str) -> list[str]:
    e = html.escape
    return [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Certificate: {e(election['title'])}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem;color:#111}table{border-collapse:collapse;margin:.5rem 0 1.5rem}"
        "td,th{border:1px solid #999;padding:.25rem .6rem;text-align:left}"
        "td.n{text-align:right;font-variant-numeric:tabular-nums}"
        ".won{font-weight:bold}code{word-break:break-all}</style></head><body>",
        f"<h1>Official results: {e(election['title'])}</h1>",
        f"<p>Election <code>{e(election['election_id'])}</code>, open "
        f"{e(election['opens_at'])} to {e(election['closes_at'])} (UTC)."
        + (" <strong>Test election.</strong>" if election.get("is_test") else "") + "</p>",
        f"<p>Certificate SHA-256: <code>{e(digest)}</code><br>Voter roll fingerprint: "
        f"<code>{e(election.get('roll_fingerprint') or '')}</code></p>",
    ]


def _contest(contest: Mapping[str, Any]) -> list[str]:
    e = html.escape
    parts = []
    heading = contest_heading(contest["title"], contest.get("district"), contest.get("party"))
    parts.append(f"<h2>{e(heading)}</h2>")
    parts.append(
        f"<p>{e(contest['kind'])}"
        + (f", {contest['seats']} seats" if contest["seats"] > 1 else "")
        + f". Ballots {contest['ballots']:,}; blank {contest['blank_ballots']:,}; "
        f"undervoted {contest['undervoted_ballots']:,}; overvoted "
        f"{contest['overvoted_ballots']:,}; off the ballot "
        f"{contest.get('off_ballot_ballots', 0):,}.</p>")
    # Votes by vote method (certificates before version 2, and ranked contests, have none).
    methods = [m for m in VOTE_METHODS if contest["options"]
               and "by_vote_method" in contest["options"][0]]
    parts.append("<table><tr><th>Option</th><th>Votes</th>"
                 + "".join(f"<th>{e(VOTE_METHOD_NAMES[m])}</th>" for m in methods)
                 + "<th>Share</th><th></th></tr>")
    for option in sorted(contest["options"], key=lambda o: -o["votes"]):
        won = option["option_id"] in contest["winners"]
        parts.append(
            f"<tr class='{'won' if won else ''}'><td>{e(option['name'])}</td>"
            f"<td class='n'>{option['votes']:,}</td>"
            + "".join(f"<td class='n'>{_count(option['by_vote_method'][m])}</td>"
                      for m in methods)
            + f"<td class='n'>{e(option['share_percent'])} %</td>"
            f"<td>{'elected' if won and contest['kind'] != 'yes_no' else ''}</td></tr>")
    parts.append("</table>")
    if contest.get("ballots_by_vote_method"):
        parts.append("<p>Ballots by vote method: " + "; ".join(
            f"{e(VOTE_METHOD_NAMES[m])} {_count(contest['ballots_by_vote_method'][m])}"
            for m in VOTE_METHODS) + ".</p>")
    if contest["kind"] == "yes_no":
        parts.append(f"<p><strong>{'Passes' if contest['passes'] else 'Fails'}</strong> "
                     f"(threshold {e(contest['threshold'])}). {e(contest['rule'])}</p>")
    if contest["kind"] == "ranked":
        parts += _rounds(contest)
    elif contest["tie"]:
        tie = contest["tie"]
        parts.append(
            f"<p><strong>Tie</strong> at {tie['votes']:,} votes between "
            f"{e(', '.join(tie['options']))} for {tie['seats']} seat(s), broken by lot: "
            f"{e(', '.join(tie['won']))}. Draw order {e(', '.join(tie['draw']))}; seed "
            f"<code>{e(tie['seed'])}</code>. {e(tie['rule'])}</p>")
    return parts


def _rounds(contest: Mapping[str, Any]) -> list[str]:
    """A ranked contest's rounds: first preferences above, each round's votes here, who was
    elected or eliminated, exhausted ballots, any tie drawn by lot."""
    e = html.escape
    names = {o["option_id"]: o["name"] for o in contest["options"]}
    rounds = contest.get("rounds") or []
    parts = [f"<p>{e(contest['rule'])}</p>", "<table><tr><th>Candidate</th>"
             + "".join(f"<th>Round {r['round']}</th>" for r in rounds) + "</tr>"]
    for option_id, name in names.items():
        parts.append(f"<tr><td>{e(name)}</td>" + "".join(
            f"<td class='n'>{e(r['tally'].get(option_id, ''))}</td>" for r in rounds)
            + "</tr>")
    parts.append("<tr><td>Exhausted</td>" + "".join(
        f"<td class='n'>{e(r['inactiveBallots'].get('exhaustedChoices', '0'))}</td>"
        for r in rounds) + "</tr><tr><td>Decided</td>" + "".join(
        "<td>" + e("; ".join(f"{'elected' if 'elected' in d else 'eliminated'} "
                             f"{names.get(d.get('elected') or d.get('eliminated'), '')}"
                             for d in r["tallyResults"])) + "</td>" for r in rounds)
        + "</tr></table>")
    if contest["tie"]:
        parts += [f"<p><strong>Tie</strong> in round {d['round']} between "
                  f"{e(', '.join(names.get(c, c) for c in d['tied']))}, broken by lot "
                  f"(draw order {e(', '.join(d['draw']))}). {e(contest['tie']['rule'])}</p>"
                  for d in contest["tie"]["draws"]]
    return parts


def _figures(certificate: Mapping[str, Any]) -> list[str]:
    """Turnout, rejected ballots, reconciliation, final offsets and data quality."""
    e = html.escape
    parts = []
    turnout = certificate["turnout"]
    parts.append(f"<h2>Turnout</h2><p>{turnout['ballots']:,} ballots of "
                 f"{turnout['registered']:,} registered voters "
                 f"({e(turnout['turnout_percent'])} %).</p><table>"
                 "<tr><th>Region</th><th>Ballots</th></tr>")
    parts += [f"<tr><td>{e(r)}</td><td class='n'>{n:,}</td></tr>"
              for r, n in turnout["by_region"].items()]
    parts.append("</table><h2>Rejected ballots</h2><table>"
                 "<tr><th>Reason</th><th>Events</th></tr>")
    parts += [f"<tr><td>{e(r)}</td><td class='n'>{n:,}</td></tr>"
              for r, n in certificate["rejected_by_reason"].items()]
    parts.append("</table><h2>Reconciliation</h2><table><tr><th>Check</th><th>Figures</th></tr>")
    parts += [f"<tr><td>{e(name)}</td><td><code>{e(json.dumps(value, sort_keys=True))}"
              f"</code></td></tr>" for name, value in certificate["reconciliation"].items()]
    offsets = certificate["final_offsets"]
    parts.append(f"</table><p>Final offsets of <code>{e(offsets['topic'])}</code>: "
                 f"<code>{e(json.dumps(offsets['partitions'], sort_keys=True))}</code></p>")
    quality = certificate.get("data_quality") or {}
    parts.append("<h2>Data quality</h2><p>Validation runs "
                 f"{e(', '.join(str(i) for i in quality.get('validation_run_ids', [])))}."
                 "</p><ul>")
    parts += [f"<li>{e(suite)}: <a href='/data-docs/{e(path)}'>{e(path)}</a></li>"
              for suite, path in sorted((quality.get("reports") or {}).items())]
    parts.append("</ul>")
    feed = certificate.get("published_feed")
    if feed:
        parts.append(f"<h2>Published results feed</h2><p>The unofficial results published "
                     f"before certification end with version {feed['version']:,}, chain "
                     f"SHA-256 <code>{e(feed['chain_sha256'])}</code> (check it with "
                     "scripts/verify_feed.py).</p>")
    parts.append("</body></html>")
    return parts


def _count(value: int | str) -> str:
    """A count with thousands separators, or a hidden cell's "< k" (escaped)."""
    return f"{value:,}" if isinstance(value, int) else html.escape(str(value))
