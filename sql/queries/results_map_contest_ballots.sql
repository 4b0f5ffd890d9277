-- One contest's ballots in each precinct (over every vote method): what the small-cell rule
-- judges its leader per precinct by.
select
    region_id,
    sum(ballots) as ballots
from contest_method_totals
where election_id = %(election_id)s and contest_id = %(contest_id)s
group by region_id
