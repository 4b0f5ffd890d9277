-- Each precinct (a region with no region below it) of one election: registered voters (as
-- counted from the roll each time it is loaded) and ballots counted so far.
select
    precinct_regions.region_id,
    precinct_regions.name,
    precinct_regions.geometry,
    coalesce(precinct_regions.registered_voters, 0) as registered,
    coalesce(turnout_by_region.ballots, 0) as ballots
from precinct_regions
left join turnout_by_region
    on
        turnout_by_region.election_id = precinct_regions.election_id
        and turnout_by_region.region_id = precinct_regions.region_id
where precinct_regions.election_id = %(election_id)s
order by precinct_regions.region_id
