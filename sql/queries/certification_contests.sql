-- Each contest of one election with its ballot style (its district and the party of its
-- primary, with their names; null for every voter's) and its options with their recounted
-- votes.
select
    contests.contest_id,
    contests.title,
    contests.kind,
    contests.seats,
    contests.threshold,
    contests.district_region_id,
    districts.name as district_name,
    contests.party_id as primary_party_id,
    primaries.name as primary_party_name,
    contest_options.option_id,
    contest_options.name,
    contest_options.party_id,
    coalesce(recount_cells.value, 0) as votes
from contests
left join regions as districts
    on
        districts.election_id = contests.election_id
        and districts.region_id = contests.district_region_id
left join parties as primaries
    on
        primaries.election_id = contests.election_id
        and primaries.party_id = contests.party_id
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
