insert into contest_ballot_totals as totals (
    election_id, contest_id, ballots, blank_ballots, undervoted_ballots, overvoted_ballots,
    off_ballot_ballots
)
values %s
on conflict (election_id, contest_id)
do update set
    ballots = totals.ballots + excluded.ballots,
    blank_ballots = totals.blank_ballots + excluded.blank_ballots,
    undervoted_ballots = totals.undervoted_ballots + excluded.undervoted_ballots,
    overvoted_ballots = totals.overvoted_ballots + excluded.overvoted_ballots,
    off_ballot_ballots = totals.off_ballot_ballots + excluded.off_ballot_ballots
