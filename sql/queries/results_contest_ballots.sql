select
    contest_id,
    ballots,
    blank_ballots,
    undervoted_ballots,
    overvoted_ballots,
    off_ballot_ballots
from contest_ballot_totals
where election_id = %(election_id)s
