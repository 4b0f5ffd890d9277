-- Certification: per-partition accounting, the recount, certificates, and the lock that
-- keeps a certified election's results as they were certified.

-- Counted events per topic partition and election, added by every tally batch, so that
-- certification can check counted + rejected = events consumed partition by partition.
create table if not exists partition_accepted_totals (
    topic text not null,
    partition integer not null,
    election_id text not null references elections,
    accepted bigint not null default 0,
    primary key (topic, partition, election_id)
);

create index if not exists rejected_events_partition_idx
    on rejected_events (topic, partition);

-- Every aggregate count of every election as (metric, item, value) cells: what the
-- data-quality gate watches and what certification compares with the recount. Filter by
-- election_id: the filter reaches each aggregate table.
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
from rejected_totals;

-- The latest recount of an election, from the ballots and check-ins ledgers alone: one
-- row per cell (metric, item), in the same terms as the live aggregates.
create table if not exists recount_cells (
    election_id text not null references elections on delete cascade,
    metric text not null,
    item text not null,
    value bigint not null,
    primary key (election_id, metric, item)
);

create table if not exists recounts (
    election_id text primary key references elections on delete cascade,
    recounted_at timestamptz not null,
    ballots bigint not null,
    checkins bigint not null,
    seconds numeric not null
);

-- One certificate per election: the canonical JSON, its SHA-256, and the readable page.
create table if not exists certificates (
    election_id text primary key references elections,
    certified_at timestamptz not null default now(),
    certificate_sha256 text not null,
    canonical_json text not null,
    certificate jsonb not null,
    html text not null
);

-- The lock. A certified election's ballots, check-ins and result aggregates cannot change,
-- whoever asks. Rejected events are still recorded after certification (a late ballot is
-- kept as "closed"), so rejected_events and rejected_totals stay writable.
create or replace function refuse_certified_rows() returns trigger
language plpgsql as $$
declare
    certified text;
begin
    -- for share: a certification committing beside this statement is waited for and seen.
    if tg_op in ('UPDATE', 'DELETE') then
        select elections.election_id into certified
        from elections
        where elections.election_id in (select election_id from old_rows)
            and elections.status = 'certified'
        limit 1
        for share of elections;
    end if;
    if certified is null and tg_op in ('INSERT', 'UPDATE') then
        select elections.election_id into certified
        from elections
        where elections.election_id in (select election_id from new_rows)
            and elections.status = 'certified'
        limit 1
        for share of elections;
    end if;
    if certified is not null then
        raise exception 'election % is certified: its % are read-only', certified, tg_table_name
            using errcode = 'P0001', hint = 'certified results never change';
    end if;
    return null;
end;
$$;

create or replace function refuse_truncating_certified() returns trigger
language plpgsql as $$
begin
    if exists (select 1 from elections where status = 'certified') then
        raise exception 'cannot truncate %: it holds certified results', tg_table_name
            using errcode = 'P0001';
    end if;
    return null;
end;
$$;

-- A certified election itself, and its certificate, stay as they were certified.
create or replace function refuse_changing_certified_election() returns trigger
language plpgsql as $$
begin
    if old.status = 'certified' then
        raise exception 'election % is certified and cannot change', old.election_id
            using errcode = 'P0001';
    end if;
    return case when tg_op = 'DELETE' then old else new end;
end;
$$;

drop trigger if exists elections_certified_lock on elections;
create trigger elections_certified_lock before update or delete on elections
for each row execute function refuse_changing_certified_election();

create or replace function refuse_changing_certificates() returns trigger
language plpgsql as $$
begin
    raise exception 'certificates are never changed or removed' using errcode = 'P0001';
end;
$$;

drop trigger if exists certificates_lock on certificates;
create trigger certificates_lock before update or delete on certificates
for each row execute function refuse_changing_certificates();

do $$
declare
    guarded text;
begin
    foreach guarded in array array[
        'ballots', 'checkins', 'option_totals', 'option_region_totals',
        'contest_ballot_totals', 'turnout_by_region', 'turnout_by_demographic',
        'ballots_per_minute'
    ] loop
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
