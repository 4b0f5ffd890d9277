-- Ranked contests: how many ballots cast each distinct ranking, per precinct, so that any
-- round-by-round tabulation runs from these counts without reading ballots. A ranking is
-- the JSON array of option ids as cast, in preference order (a contest a ballot leaves
-- blank is not counted here: contest_ballot_totals has it).
create table if not exists ranking_totals (
    election_id text not null references elections,
    contest_id text not null,
    region_id text not null,
    ranking text not null,
    ballots bigint not null default 0,
    primary key (election_id, contest_id, region_id, ranking)
);

-- The counts are aggregate cells like the others: watched by the quality gate, compared
-- with the recount and locked with the election's results once it is certified.
create or replace view aggregate_cells as
select election_id, 'option' as metric, contest_id || '/' || option_id as item, votes as value
from option_totals
union all
select election_id, 'option_region', contest_id || '/' || option_id || '/' || region_id, votes
from option_region_totals
union all
select election_id, 'contest_ballots', contest_id, ballots
from contest_ballot_totals
union all
select election_id, 'contest_blank', contest_id, blank_ballots
from contest_ballot_totals
union all
select election_id, 'contest_undervote', contest_id, undervoted_ballots
from contest_ballot_totals
union all
select election_id, 'contest_overvote', contest_id, overvoted_ballots
from contest_ballot_totals
union all
select election_id, 'turnout', region_id, ballots
from turnout_by_region
union all
select election_id, 'demographic', age_band || '/' || gender, ballots
from turnout_by_demographic
union all
select
    election_id,
    'minute',
    to_char(minute at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    ballots
from ballots_per_minute
union all
select election_id, 'rejected', reason, events
from rejected_totals
union all
select election_id, 'ranking', contest_id || '/' || region_id || '/' || ranking, ballots
from ranking_totals;

drop trigger if exists ranking_totals_insert_lock on ranking_totals;
create trigger ranking_totals_insert_lock after insert on ranking_totals
referencing new table as new_rows
for each statement execute function refuse_certified_rows();
drop trigger if exists ranking_totals_update_lock on ranking_totals;
create trigger ranking_totals_update_lock after update on ranking_totals
referencing old table as old_rows new table as new_rows
for each statement execute function refuse_certified_rows();
drop trigger if exists ranking_totals_delete_lock on ranking_totals;
create trigger ranking_totals_delete_lock after delete on ranking_totals
referencing old table as old_rows
for each statement execute function refuse_certified_rows();
drop trigger if exists ranking_totals_truncate_lock on ranking_totals;
create trigger ranking_totals_truncate_lock before truncate on ranking_totals
for each statement execute function refuse_truncating_certified();

-- The site reads rankings summed over precincts only: a full ranking is a rarer pattern than
-- one vote, and per precinct it would tell more about fewer voters.
create or replace view ranking_contest_totals as
select
    election_id,
    contest_id,
    ranking,
    sum(ballots)::bigint as ballots
from ranking_totals
group by election_id, contest_id, ranking;

grant select on ranking_contest_totals to tallyflow_site;
-- aggregate_cells now holds rankings per precinct too, and the site never read it.
revoke select on aggregate_cells from tallyflow_site;
