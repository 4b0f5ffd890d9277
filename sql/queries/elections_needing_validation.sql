-- Elections not yet open whose roll changed since their last registration check.
with last_checks as (
    select
        election_id,
        max(validated_at) as validated_at
    from validation_runs
    group by election_id
)

select elections.election_id
from elections
left join last_checks on last_checks.election_id = elections.election_id
where
    elections.status in ('draft', 'scheduled')
    and elections.registrations_updated_at is not null
    and (
        last_checks.validated_at is null
        or last_checks.validated_at < elections.registrations_updated_at
    )
order by elections.election_id
