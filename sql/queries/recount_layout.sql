-- Each contest of an election with how many selections it allows (the recount's layout).
select
    contests.contest_id,
    case
        when contests.kind = 'plurality' then contests.seats
        when contests.kind = 'yes_no' then 1
        else (
            select count(*)::integer
            from contest_options
            where
                contest_options.election_id = contests.election_id
                and contest_options.contest_id = contests.contest_id
        )
    end as max_selections
from contests
where contests.election_id = %(election_id)s
order by contests.ballot_order
