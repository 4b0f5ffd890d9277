-- Every option of the given elections' contests, with how many selections a contest allows.
select
    contest_options.election_id,
    contest_options.contest_id,
    contest_options.option_id,
    case
        when contests.kind = 'plurality' then contests.seats
        when contests.kind = 'yes_no' then 1
        else count(*) over (partition by contest_options.election_id, contest_options.contest_id)
    end as max_selections
from contest_options
inner join contests
    on
        contests.election_id = contest_options.election_id
        and contests.contest_id = contest_options.contest_id
where contest_options.election_id = any(%(election_ids)s)
