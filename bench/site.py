"""Results site benchmark: the results page's callback with 1,000,000 counted ballots behind it.

Run: .venv/bin/python bench/site.py [--ballots 1000000] [--calls 200] [--precincts 1000]
Starts its own PostgreSQL on a free port, creates two copies of the general election
example (mayor, a two-seat council, an approval poll): one with no ballots, and one with
--ballots stored ballots and the aggregates a tally of them writes. Then it calls the
results page's refresh callback, as the browser's 2-second poll does:

- "changed": the page's sections changed, so the whole page is rebuilt and sent;
- "unchanged": nothing moved, so nothing but the freshness line is sent.

A third election, the ranked example widened to 8 candidates per contest (a mayor by
instant runoff, two council seats by STV), gets --ballots rankings per contest drawn by
``bench/ranked.py``'s preference model, and the rounds the tally would store for them; the
time the tally spends re-running those rounds in a batch is printed too.

A fourth election has the general election's contests over --precincts precincts (in 10
districts) with the aggregates of --ballots ballots spread over them (no ledger rows).

Prints p50 and p95 per case for every election (target: p95 <= 50 ms for the page), and
for the exports: the JSON, the precinct-level JSON and CSV, and the NIST SP 1500-100
document (target: p95 <= 500 ms at 1,000 precincts).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tallyctl.stack import Stack
from tallyctl.stack.process import free_port_env
from tallyflow import db
from tallyflow.elections import lifecycle, store
from tallyflow.elections.definition import load_definition
from tallyflow.registrations.quality import validate_registrations
from tallyflow.registrations.roll import seed_registrations
from tallyflow.settings import Settings, get_settings

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "elections"
EXAMPLE = EXAMPLES / "general-election.json"
RANKED_EXAMPLE = EXAMPLES / "ranked-mayor.json"

# The vote-method split of the precinct counts below, as the tally keeps it.
METHODS = """
insert into option_method_totals
select election_id, contest_id, option_id, region_id, method, votes / 3
from option_region_totals
cross join unnest(array['in_person', 'mail', 'online']) as method
where election_id = %(e)s;

insert into contest_method_totals
select totals.election_id, contests.contest_id, totals.region_id, method, totals.ballots / 3
from turnout_by_region as totals
inner join contests on contests.election_id = totals.election_id
cross join unnest(array['in_person', 'mail', 'online']) as method
where totals.election_id = %(e)s;

insert into turnout_by_method
select election_id, region_id, method, ballots / 3
from turnout_by_region
cross join unnest(array['in_person', 'mail', 'online']) as method
where election_id = %(e)s;
"""

# Ballots and the aggregates the tally would write for them, made in SQL: the site never
# reads the ledger, but it is there, a million rows of it, as on election night.
FILL = """
insert into ballots (election_id, region_id, selections)
select
    %(e)s,
    (array['east-a', 'east-b', 'west-a', 'west-b'])[1 + n %% 4],
    '[{"contest_id":"mayor","selections":["dana-moss"]}]'
from generate_series(1, %(n)s) as n;

insert into option_totals
select %(e)s, 'mayor', option_id, %(n)s / 4
from unnest(array['dana-moss', 'eli-brandt', 'farah-nasser', 'gus-lindqvist']) as option_id;

insert into option_region_totals
select %(e)s, 'mayor', option_id, region_id, %(n)s / 16
from unnest(array['dana-moss', 'eli-brandt', 'farah-nasser', 'gus-lindqvist']) as option_id
cross join unnest(array['east-a', 'east-b', 'west-a', 'west-b']) as region_id;

insert into contest_ballot_totals
select %(e)s, contest_id, %(n)s, 0, 0, 0
from unnest(array['mayor', 'council', 'park-priorities']) as contest_id;

insert into turnout_by_region
select %(e)s, region_id, %(n)s / 4
from unnest(array['east-a', 'east-b', 'west-a', 'west-b']) as region_id;

insert into turnout_by_demographic
select %(e)s, band, gender, %(n)s / 12
from unnest(array['18-24', '25-34', '35-44', '45-54', '55-64', '65+']) as band
cross join unnest(array['female', 'male']) as gender;

insert into ballots_per_minute
select %(e)s, %(opens)s + make_interval(mins => m), %(n)s / 720
from generate_series(0, 719) as m;

insert into rejected_totals values (%(e)s, 'duplicate', 1234), (%(e)s, 'malformed', 56);
"""


def fill_ranked(url: str, election, ballots: int) -> None:
    """Rankings of ``ballots`` ballots in each ranked contest, stored as the tally stores
    them, then the rounds the tally runs over them (timed: a batch pays this)."""
    from psycopg2.extras import execute_values

    from bench.ranked import draw
    from tallyflow.votes.runoffs import refresh_rounds

    with db.connection(url) as conn, conn.cursor() as cur:
        for contest in election.contests:
            drawn = draw(ballots, [o.option_id for o in contest.options], seed=7)
            flat: dict[str, int] = {}
            for ranking, n in drawn.items():  # the tally stores single marks in rank order
                text = json.dumps([m[0] for m in ranking if len(m) == 1],
                                  separators=(",", ":"))
                flat[text] = flat.get(text, 0) + n
            execute_values(cur, "insert into ranking_contest_totals values %s",
                           [(election.election_id, contest.contest_id, r, n)
                            for r, n in flat.items()], page_size=5000)
            cur.execute("insert into contest_ballot_totals values (%s, %s, %s, 0, 0, 0)",
                        (election.election_id, contest.contest_id, ballots))
            t0 = time.perf_counter()
            refresh_rounds(cur, [(election.election_id, contest.contest_id)])
            print(f"  {contest.contest_id} ({contest.seats} seat(s)): {len(flat):,} distinct "
                  f"rankings; the tally's rounds take {time.perf_counter() - t0:.2f} s "
                  "per batch", flush=True)


# The aggregates of --ballots ballots spread over the precincts of the wide election: each
# option of each contest gets a share of each precinct's ballots.
FILL_PRECINCTS = """
insert into option_region_totals
select
    options.election_id, options.contest_id, options.option_id, precincts.region_id,
    (%(per)s * (0.2 + 0.6 * random()))::integer / 2
from contest_options as options
cross join precinct_regions as precincts
where options.election_id = %(e)s and precincts.election_id = %(e)s;

insert into option_totals
select election_id, contest_id, option_id, sum(votes)
from option_region_totals where election_id = %(e)s
group by election_id, contest_id, option_id;

insert into turnout_by_region
select election_id, region_id, %(per)s from precinct_regions where election_id = %(e)s;

insert into contest_ballot_totals
select election_id, contest_id, %(per)s * (select count(*) from precinct_regions
                                            where election_id = %(e)s), 0, 0, 0
from contests where election_id = %(e)s;
"""
# The exports timed besides the page (paths under /api/v1/elections/{id}/).
EXPORTS = {"precinct JSON": "results?level=precinct",
           "precinct CSV": "results.precincts.csv", "NIST document": "results.nist.json"}


def open_election(settings, path: Path, election_id: str, voters: int = 1000):
    """Create an election from ``path``, seed and check its roll, and open it."""
    url = settings.database_url
    election = load_definition(path, opens_at="now", closes_at="+12h",
                               election_id=election_id)
    store.create_election(url, election)
    seed_registrations(url, election_id, voters, seed=1)
    validate_registrations(url, election_id, settings.data_quality_dir)
    lifecycle.schedule_election(url, election_id)
    lifecycle.open_election(url, election_id)
    return election


def _ranked_definition(home: Path) -> Path:
    """The ranked example with 8 candidates per contest, as bench/ranked.py has."""
    definition = json.loads(RANKED_EXAMPLE.read_text())
    for contest in definition["contests"]:
        contest["options"] += [{"id": f"extra-{i}", "name": f"Extra {i}"}
                               for i in range(8 - len(contest["options"]))]
    (home / "ranked.json").write_text(json.dumps(definition))
    return home / "ranked.json"


def _precincts_definition(home: Path, precincts: int) -> Path:
    """The general election's contests over a county of 10 districts and ``precincts``
    precincts."""
    definition = json.loads(EXAMPLE.read_text())
    definition["regions"] = [{"id": "county", "name": "County", "level": "county"}] + [
        {"id": f"d{d}", "name": f"District {d}", "level": "district", "parent": "county"}
        for d in range(10)] + [
        {"id": f"p{p:04d}", "name": f"Precinct {p}", "level": "precinct",
         "parent": f"d{p % 10}"} for p in range(precincts)]
    (home / "precincts.json").write_text(json.dumps(definition))
    return home / "precincts.json"


def _percentiles(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"p50 {1000 * statistics.median(ordered):5.1f} ms, p95 {1000 * p95:5.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--precincts", type=int, default=1000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tallyflow-bench-") as home:
        env = free_port_env(Path(home))
        os.environ.update(env)
        get_settings.cache_clear()
        settings = Settings.from_env(env)
        stack = Stack(settings, say=lambda message: None)
        try:
            stack.prepare_database(stack.launch_postgres())
            url = settings.database_url
            elections = {}
            for label, ballots in (("empty", 0), (f"{args.ballots:,} ballots", args.ballots)):
                election = open_election(settings, EXAMPLE, f"bench-{ballots}")
                if ballots:
                    t0 = time.perf_counter()
                    with db.connection(url) as conn, conn.cursor() as cur:
                        cur.execute(FILL, {"e": election.election_id, "n": ballots,
                                           "opens": election.opens_at})
                        cur.execute(METHODS, {"e": election.election_id})
                    print(f"stored {ballots:,} ballots and their aggregates in "
                          f"{time.perf_counter() - t0:.0f} s", flush=True)
                elections[label] = election.election_id
            ranked = open_election(settings, _ranked_definition(Path(home)), "bench-ranked")
            print(f"ranked example, {args.ballots:,} ballots per contest:", flush=True)
            fill_ranked(url, ranked, args.ballots)
            elections[f"ranked {args.ballots:,}"] = ranked.election_id
            wide = open_election(settings, _precincts_definition(Path(home), args.precincts),
                                 "bench-precincts", voters=50 * args.precincts)
            t0 = time.perf_counter()
            with db.connection(url) as conn, conn.cursor() as cur:
                cur.execute(FILL_PRECINCTS, {"e": wide.election_id,
                                             "per": args.ballots // args.precincts})
                cur.execute(METHODS, {"e": wide.election_id})
            print(f"{args.precincts:,} precincts: stored the aggregates of {args.ballots:,} "
                  f"ballots in {time.perf_counter() - t0:.0f} s", flush=True)
            elections[f"{args.precincts:,} precincts"] = wide.election_id
            with db.connection(url, autocommit=True) as conn, conn.cursor() as cur:
                cur.execute("analyze")  # as autovacuum would after these inserts

            from dash_app.app import server
            from dash_app.pages.election import page_parts, plan_refresh, publish_shown
            from dash_app.results import load_results

            def poll(election_id: str, shown, graphs, texts):
                """What the refresh callback does for one poll."""
                raw = load_results(settings.site_database_url, election_id,
                                   settings.votes_topic)
                planned = plan_refresh(raw, shown, graphs, texts)
                publish_shown(raw)
                return planned

            client = server.test_client()
            print(f"\nresults site benchmark ({args.calls} calls each; target p95 <= 50 ms)")
            for label, election_id in elections.items():
                timings: dict[str, list[float]] = {"changed": [], "unchanged": [],
                                                   "JSON export": [], "304": [],
                                                   "precinct JSON": [], "precinct CSV": [],
                                                   "NIST document": []}
                parts = page_parts(load_results(settings.site_database_url, election_id,
                                                settings.votes_topic))
                graphs, texts = list(parts["graphs"]), list(parts["texts"])
                version = poll(election_id, None, graphs, texts)[3]
                etag = client.get(f"/api/v1/elections/{election_id}/results").headers["ETag"]
                for _ in range(args.calls):
                    t0 = time.perf_counter()
                    poll(election_id, None, graphs, texts)
                    timings["changed"].append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    poll(election_id, version, graphs, texts)
                    timings["unchanged"].append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    assert client.get(f"/api/v1/elections/{election_id}/results").status_code \
                        == 200
                    timings["JSON export"].append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    answer = client.get(f"/api/v1/elections/{election_id}/results",
                                        headers={"If-None-Match": etag})
                    assert answer.status_code == 304
                    timings["304"].append(time.perf_counter() - t0)
                    for case, path in EXPORTS.items():
                        t0 = time.perf_counter()
                        answer = client.get(f"/api/v1/elections/{election_id}/{path}")
                        assert answer.status_code == 200, answer.data[:300]
                        timings[case].append(time.perf_counter() - t0)
                for case, seconds in timings.items():
                    if seconds:
                        print(f"  {label:<18} {case:<13} {_percentiles(seconds)}")
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
