-- One ranked contest's seats and candidates in ballot order, and the fingerprint of the
-- election's frozen roll (it seeds the lot that breaks ties).
select
    contests.seats,
    contest_options.option_id,
    elections.roll_fingerprint
from contests
inner join elections on elections.election_id = contests.election_id
inner join contest_options
    on
        contest_options.election_id = contests.election_id
        and contest_options.contest_id = contests.contest_id
where contests.election_id = %(election_id)s and contests.contest_id = %(contest_id)s
order by contest_options.ballot_order
