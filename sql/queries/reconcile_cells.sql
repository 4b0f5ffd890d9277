-- Every result cell of one election, live aggregate beside recount, in the recount's terms.
with live_cells as (
    select 'option' as metric, contest_id || '/' || option_id as item, votes as value
    from option_totals
    where election_id = %(election_id)s
    union all
    select 'option_region', contest_id || '/' || option_id || '/' || region_id, votes
    from option_region_totals
    where election_id = %(election_id)s
    union all
    select 'contest_' || what, contest_id, value
    from contest_ballot_totals
    cross join lateral (
        values
            ('ballots', ballots),
            ('blank', blank_ballots),
            ('undervote', undervoted_ballots),
            ('overvote', overvoted_ballots)
    ) as marks (what, value)
    where election_id = %(election_id)s
    union all
    select 'turnout', region_id, ballots
    from turnout_by_region
    where election_id = %(election_id)s
    union all
    select 'demographic', age_band || '/' || gender, ballots
    from turnout_by_demographic
    where election_id = %(election_id)s
    union all
    select 'minute', to_char(minute at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), ballots
    from ballots_per_minute
    where election_id = %(election_id)s
),

recounted as (
    select metric, item, value
    from recount_cells
    where election_id = %(election_id)s and metric <> 'ballots'
)

select
    coalesce(live_cells.metric, recounted.metric) as metric,
    coalesce(live_cells.item, recounted.item) as item,
    coalesce(live_cells.value, 0) as live,
    coalesce(recounted.value, 0) as recount
from live_cells
full join recounted
    on recounted.metric = live_cells.metric and recounted.item = live_cells.item
-- a zero cell on one side and no cell on the other agree
where coalesce(live_cells.value, 0) <> 0 or coalesce(recounted.value, 0) <> 0
order by metric, item
