-- Every option of every contest of one election with its votes and party colour.
select
    contests.contest_id,
    contests.title as contest_title,
    contests.kind,
    contests.seats,
    contests.threshold,
    contest_options.option_id,
    contest_options.name,
    parties.name as party_name,
    parties.colour,
    coalesce(option_totals.votes, 0) as votes
from contests
inner join contest_options
    on
        contest_options.election_id = contests.election_id
        and contest_options.contest_id = contests.contest_id
left join parties
    on
        parties.election_id = contest_options.election_id
        and parties.party_id = contest_options.party_id
left join option_totals
    on
        option_totals.election_id = contest_options.election_id
        and option_totals.contest_id = contest_options.contest_id
        and option_totals.option_id = contest_options.option_id
where contests.election_id = %(election_id)s
order by contests.ballot_order, contest_options.ballot_order
