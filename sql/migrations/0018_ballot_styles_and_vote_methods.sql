-- Ballot styles and vote methods.
--
-- A contest may be limited to a district (a region and everything below it) and to the
-- voters affiliated with one party (a primary): a voter's ballot is the contests of their
-- precinct and party (tallyflow.elections.layout.on_ballot). A ballot keeps the party of
-- its ballot style and how it was cast (the event's channel: online, in person or mail),
-- and the aggregates count by vote method.

alter table contests add column if not exists district_region_id text;
alter table contests add column if not exists party_id text;
-- The contest's electorate: voters on the roll whose ballot carries it (counted with the
-- regions' registered voters whenever the roll is loaded).
alter table contests add column if not exists registered_voters integer;

-- A voter's party affiliation, for party primaries (null: none declared).
alter table voters add column if not exists party_id text;

-- The ballot's style (the party whose primary it carries, if any) and vote method.
alter table ballots add column if not exists party_id text;
alter table ballots add column if not exists vote_method text not null default 'online';

do $$
begin
    if not exists (select from pg_constraint where conname = 'contests_district_fkey') then
        alter table contests add constraint contests_district_fkey
            foreign key (election_id, district_region_id) references regions (election_id, region_id);
    end if;
    if not exists (select from pg_constraint where conname = 'contests_party_fkey') then
        alter table contests add constraint contests_party_fkey
            foreign key (election_id, party_id) references parties (election_id, party_id);
    end if;
    if not exists (select from pg_constraint where conname = 'voters_party_fkey') then
        alter table voters add constraint voters_party_fkey
            foreign key (election_id, party_id) references parties (election_id, party_id);
    end if;
    if not exists (select from pg_constraint where conname = 'ballots_vote_method_check') then
        alter table ballots add constraint ballots_vote_method_check
            check (vote_method in ('online', 'in_person', 'mail'));
    end if;
end;
$$;

-- Ballots that marked a contest not on their voter's ballot: recorded per contest, like an
-- overvote, and counted for no option (the rest of the ballot counts). Not in ``ballots``:
-- a contest's ballots are those of its own electorate.
alter table contest_ballot_totals
    add column if not exists off_ballot_ballots bigint not null default 0;

-- Votes per option, precinct and vote method.
create table if not exists option_method_totals (
    election_id text not null,
    contest_id text not null,
    option_id text not null,
    region_id text not null,
    vote_method text not null check (vote_method in ('online', 'in_person', 'mail')),
    votes bigint not null default 0,
    primary key (election_id, contest_id, option_id, region_id, vote_method)
);

-- Ballots per contest, precinct and vote method (a contest's ballots where it was on the
-- ballot, blank or not).
create table if not exists contest_method_totals (
    election_id text not null,
    contest_id text not null,
    region_id text not null,
    vote_method text not null check (vote_method in ('online', 'in_person', 'mail')),
    ballots bigint not null default 0,
    primary key (election_id, contest_id, region_id, vote_method)
);

-- Ballots per precinct and vote method.
create table if not exists turnout_by_method (
    election_id text not null,
    region_id text not null,
    vote_method text not null check (vote_method in ('online', 'in_person', 'mail')),
    ballots bigint not null default 0,
    primary key (election_id, region_id, vote_method)
);

do $$
declare
    guarded text;
begin
    foreach guarded in array array['option_method_totals', 'contest_method_totals',
                                   'turnout_by_method'] loop
        execute format('drop trigger if exists %I on %I', guarded || '_insert_lock', guarded);
        execute format('drop trigger if exists %I on %I', guarded || '_update_lock', guarded);
        execute format('drop trigger if exists %I on %I', guarded || '_delete_lock', guarded);
        execute format(
            'create trigger %I after insert on %I referencing new table as new_rows '
            'for each statement execute function refuse_certified_rows()',
            guarded || '_insert_lock', guarded);
        execute format(
            'create trigger %I after update on %I '
            'referencing old table as old_rows new table as new_rows '
            'for each statement execute function refuse_certified_rows()',
            guarded || '_update_lock', guarded);
        execute format(
            'create trigger %I after delete on %I referencing old table as old_rows '
            'for each statement execute function refuse_certified_rows()',
            guarded || '_delete_lock', guarded);
        execute format('drop trigger if exists %I on %I', guarded || '_truncate_lock', guarded);
        execute format(
            'create trigger %I before truncate on %I '
            'for each statement execute function refuse_truncating_certified()',
            guarded || '_truncate_lock', guarded);
    end loop;
end;
$$;

-- Every result cell, now with off-ballot marks and the vote-method cells.
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
from turnout_by_method;

revoke select on aggregate_cells from tallyflow_site;
-- The site reads the vote-method counts and applies its small-cell suppression to them, as
-- it does to the precinct counts.
grant select on option_method_totals, contest_method_totals, turnout_by_method
    to tallyflow_site;
-- The casting API tells a voter which contests are on their ballot, and refuses a ballot
-- that marks one that is not: it reads the voter's precinct and party, nothing else.
grant select (region_id, party_id) on voters to tallyflow_casting;
grant select (election_id, contest_id, district_region_id, party_id) on contests
    to tallyflow_casting;
grant select (election_id, region_id, parent_region_id) on regions to tallyflow_casting;
