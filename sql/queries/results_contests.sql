-- Each contest's ballot style and electorate: the district it is limited to (with its name
-- and its precincts) and the party whose primary it is (with its name), null for every
-- voter's; and its registered voters (null until the roll is counted for it). The
-- district's regions are walked here for this election only (region_ancestry walks every
-- election's tree).
with recursive district_regions as (
    select
        contest_id,
        district_region_id as region_id
    from contests
    where election_id = %(election_id)s and district_region_id is not null

    union all

    select
        district_regions.contest_id,
        regions.region_id
    from district_regions
    inner join regions
        on
            regions.election_id = %(election_id)s
            and regions.parent_region_id = district_regions.region_id
),

district_precincts as (
    select
        district_regions.contest_id,
        array_agg(district_regions.region_id order by district_regions.region_id)
            as region_ids
    from district_regions
    inner join precinct_regions
        on
            precinct_regions.election_id = %(election_id)s
            and precinct_regions.region_id = district_regions.region_id
    group by district_regions.contest_id
)

select
    contests.contest_id,
    contests.district_region_id,
    districts.name as district_name,
    district_precincts.region_ids as district_precincts,
    contests.party_id,
    parties.name as party_name,
    contests.registered_voters
from contests
left join regions as districts
    on
        districts.election_id = contests.election_id
        and districts.region_id = contests.district_region_id
left join district_precincts
    on district_precincts.contest_id = contests.contest_id
left join parties
    on
        parties.election_id = contests.election_id
        and parties.party_id = contests.party_id
where contests.election_id = %(election_id)s
order by contests.ballot_order
