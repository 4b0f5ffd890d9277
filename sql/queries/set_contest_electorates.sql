-- Each contest's electorate, counted from the roll: (election_id, contest_id, voters) rows.
update contests
set registered_voters = electorates.voters
from (values %s) as electorates (election_id, contest_id, voters)
where
    contests.election_id = electorates.election_id
    and contests.contest_id = electorates.contest_id
