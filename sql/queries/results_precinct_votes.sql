-- Each option's votes in each precinct (ranked contests are left out: a mention at any rank
-- is not a vote, and rankings per precinct are not published).
select
    option_region_totals.contest_id,
    option_region_totals.option_id,
    option_region_totals.region_id,
    option_region_totals.votes
from option_region_totals
inner join contests
    on
        contests.election_id = option_region_totals.election_id
        and contests.contest_id = option_region_totals.contest_id
where option_region_totals.election_id = %(election_id)s and contests.kind <> 'ranked'
