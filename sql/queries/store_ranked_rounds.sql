-- A ranked contest's rounds over the rankings counted so far (written by the tally in the
-- batch that counted them).
insert into ranked_rounds as stored (election_id, contest_id, ballots, rankings, rounds)
values (%(election_id)s, %(contest_id)s, %(ballots)s, %(rankings)s, %(rounds)s)
on conflict (election_id, contest_id)
do update set
    ballots = excluded.ballots,
    rankings = excluded.rankings,
    rounds = excluded.rounds,
    tabulated_at = now()
