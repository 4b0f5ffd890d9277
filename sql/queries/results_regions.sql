-- Each precinct (a region with no region below it) of one election: registered voters,
-- ballots counted so far and the leading option there of the first contest that is not
-- ranked (a ranked contest's counts are mentions, not votes).
with precincts as (
    select
        region_id,
        name,
        geometry
    from precinct_regions
    where election_id = %(election_id)s
),

first_contest as (
    select contest_id
    from contests
    where election_id = %(election_id)s and kind <> 'ranked'
    order by ballot_order
    limit 1
),

leaders as (
    select distinct on (option_region_totals.region_id)
        option_region_totals.region_id,
        option_region_totals.option_id as leader_option_id
    from option_region_totals
    inner join first_contest on first_contest.contest_id = option_region_totals.contest_id
    where option_region_totals.election_id = %(election_id)s and option_region_totals.votes > 0
    order by
        option_region_totals.region_id, option_region_totals.votes desc,
        option_region_totals.option_id
)

select
    precincts.region_id,
    precincts.name,
    precincts.geometry,
    coalesce(region_roll_counts.roll_count, 0) as registered,
    coalesce(turnout_by_region.ballots, 0) as ballots,
    leaders.leader_option_id
from precincts
left join region_roll_counts
    on
        region_roll_counts.election_id = %(election_id)s
        and region_roll_counts.region_id = precincts.region_id
left join turnout_by_region
    on
        turnout_by_region.election_id = %(election_id)s
        and turnout_by_region.region_id = precincts.region_id
left join leaders on leaders.region_id = precincts.region_id
order by precincts.region_id
