-- Each contest of one election with its options and their recounted votes.
select
    contests.contest_id,
    contests.title,
    contests.kind,
    contests.seats,
    contests.threshold,
    contest_options.option_id,
    contest_options.name,
    contest_options.party_id,
    coalesce(recount_cells.value, 0) as votes
from contests
left join contest_options
    on
        contest_options.election_id = contests.election_id
        and contest_options.contest_id = contests.contest_id
left join recount_cells
    on
        recount_cells.election_id = contests.election_id
        and recount_cells.metric = 'option'
        and recount_cells.item = contests.contest_id || '/' || contest_options.option_id
where contests.election_id = %(election_id)s
order by contests.ballot_order, contest_options.ballot_order
