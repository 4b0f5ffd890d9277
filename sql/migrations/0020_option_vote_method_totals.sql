-- Each option's votes per vote method over the whole election, kept by the tally beside
-- the per-precinct cells (option_method_totals): the results page reads a contest's split
-- by vote method on every poll, and summing the precinct cells each time cost 11 ms at
-- 1,000 precincts (docs/benchmarks.md). Recounted and reconciled like every other cell.

create table if not exists option_vote_method_totals (
    election_id text not null,
    contest_id text not null,
    option_id text not null,
    vote_method text not null check (vote_method in ('online', 'in_person', 'mail')),
    votes bigint not null default 0,
    primary key (election_id, contest_id, option_id, vote_method)
);

-- What 0018's tally counted before this table existed.
insert into option_vote_method_totals (election_id, contest_id, option_id, vote_method, votes)
select election_id, contest_id, option_id, vote_method, sum(votes)
from option_method_totals
group by election_id, contest_id, option_id, vote_method
on conflict do nothing;

drop trigger if exists option_vote_method_totals_insert_lock on option_vote_method_totals;
create trigger option_vote_method_totals_insert_lock after insert on option_vote_method_totals
referencing new table as new_rows
for each statement execute function refuse_certified_rows();
drop trigger if exists option_vote_method_totals_update_lock on option_vote_method_totals;
create trigger option_vote_method_totals_update_lock after update on option_vote_method_totals
referencing old table as old_rows new table as new_rows
for each statement execute function refuse_certified_rows();
drop trigger if exists option_vote_method_totals_delete_lock on option_vote_method_totals;
create trigger option_vote_method_totals_delete_lock after delete on option_vote_method_totals
referencing old table as old_rows
for each statement execute function refuse_certified_rows();
drop trigger if exists option_vote_method_totals_truncate_lock on option_vote_method_totals;
create trigger option_vote_method_totals_truncate_lock before truncate
on option_vote_method_totals
for each statement execute function refuse_truncating_certified();

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
from ranking_totals
union all
select election_id, 'contest_off_ballot', contest_id, off_ballot_ballots
from contest_ballot_totals
union all
select
    election_id,
    'option_method',
    contest_id || '/' || option_id || '/' || region_id || '/' || vote_method,
    votes
from option_method_totals
union all
select
    election_id, 'contest_method', contest_id || '/' || region_id || '/' || vote_method, ballots
from contest_method_totals
union all
select election_id, 'turnout_method', region_id || '/' || vote_method, ballots
from turnout_by_method
union all
select
    election_id, 'option_vote_method', contest_id || '/' || option_id || '/' || vote_method, votes
from option_vote_method_totals;

revoke select on aggregate_cells from tallyflow_site;
grant select on option_vote_method_totals to tallyflow_site;
