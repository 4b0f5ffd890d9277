-- The ballot of each given election: its contests in ballot order, each with its kind, how
-- many selections it allows and its options in ballot order (one row per option; a contest
-- without options has one row with a null option). A contest limited to a district lists
-- the regions of that district (the district and every region below it; null: every
-- region), and a party primary its party.
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
    (
        select array_agg(region_ancestry.region_id order by region_ancestry.region_id)
        from region_ancestry
        where
            region_ancestry.election_id = contests.election_id
            and region_ancestry.ancestor_id = contests.district_region_id
    ) as district_regions,
    contests.party_id,
    contest_options.option_id
from contests
left join contest_options
    on
        contest_options.election_id = contests.election_id
        and contest_options.contest_id = contests.contest_id
where contests.election_id = any(%(election_ids)s)
order by contests.election_id, contests.ballot_order, contest_options.ballot_order
