-- One row per election, newest opening first, with its roll size and latest check.
with roll_sizes as (
    select
        election_id,
        count(*) as registered_voters
    from voters
    group by election_id
),

latest_checks as (
    select distinct on (election_id, suite_name)
        election_id,
        suite_name,
        is_passed
    from validation_runs
    order by election_id, suite_name, validated_at desc
),

check_status as (
    select
        election_id,
        bool_and(is_passed) as is_roll_valid
    from latest_checks
    group by election_id
)

select
    elections.election_id,
    elections.title,
    elections.status,
    elections.opens_at,
    elections.closes_at,
    elections.is_test,
    coalesce(roll_sizes.registered_voters, 0) as registered_voters,
    check_status.is_roll_valid
from elections
left join roll_sizes on roll_sizes.election_id = elections.election_id
left join check_status on check_status.election_id = elections.election_id
order by elections.opens_at desc, elections.election_id
