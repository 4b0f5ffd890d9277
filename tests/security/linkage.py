"""The linkage queries of ballot secrecy: what one transaction's counted ballots and
check-ins say about each other, region by region (docs/security.md)."""

from __future__ import annotations

from collections import Counter

from tallyflow import db

# The group of k the tests count with (the platform's default).
K = 5


def linkage_groups(url, election_id) -> list[tuple]:
    """Per (transaction, region): the ballots it added and the voters it checked in."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("""
            select coalesce(b.tx, c.tx), coalesce(b.region_id, c.region_id),
                   coalesce(b.ballots, 0), coalesce(c.voters, 0)
            from (select xmin::text as tx, region_id, count(*) as ballots from ballots
                  where election_id = %(e)s group by 1, 2) b
            full join (select xmin::text as tx, region_id, count(*) as voters from checkins
                       where election_id = %(e)s group by 1, 2) c using (tx, region_id)
        """, {"e": election_id})
        return cur.fetchall()


def assert_groups_of_k(url, election_id, k=K) -> None:
    """No (transaction, region) set of counted ballots or check-ins is smaller than k, and
    each transaction's check-ins match its ballots region by region. The one exception: a
    region with fewer than k ballots in the whole election, counted at close in one set."""
    groups = linkage_groups(url, election_id)
    total = Counter()
    for _tx, region, ballots, _voters in groups:
        total[region] += ballots
    small = [g for g in groups if (g[2] < k or g[3] < k) and g[2] != total[g[1]]]
    assert small == [] and [g for g in groups if g[2] != g[3]] == [], groups
