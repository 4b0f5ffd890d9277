-- The ballot of each given election: its contests in ballot order, each with its kind, how
-- many selections it allows and its options in ballot order (one row per option; a contest
-- without options has one row with a null option).
select
    contests.election_id,
    contests.contest_id,
    contests.kind,
    case
        when contests.kind = 'plurality' then contests.seats
        when contests.kind = 'yes_no' then 1
        else (
            select count(*)::integer
            from contest_options as counted
            where
                counted.election_id = contests.election_id
                and counted.contest_id = contests.contest_id
        )
    end as max_selections,
    contest_options.option_id
from contests
left join contest_options
    on
        contest_options.election_id = contests.election_id
        and contest_options.contest_id = contests.contest_id
where contests.election_id = any(%(election_ids)s)
order by contests.election_id, contests.ballot_order, contest_options.ballot_order
