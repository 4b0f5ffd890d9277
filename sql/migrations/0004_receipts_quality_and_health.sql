-- Receipts, the casting API's idempotency record, result quality holds and pipeline health.

-- Ballot ids are Postgres's own random UUIDs.
alter table ballots alter column ballot_id set default gen_random_uuid();

-- A receipt is sha256("receipt:" || event_id || ":" || credential), hex. The check-in of a
-- counted ballot, or the rejected event, carries it, so a voter can see what became of
-- their ballot. Neither row says what the ballot chose, and ballots carry no receipt.
alter table checkins add column if not exists receipt text;
create index if not exists checkins_receipt_idx on checkins (receipt);
alter table rejected_events add column if not exists receipt text;
create index if not exists rejected_events_receipt_idx on rejected_events (receipt);

-- What the casting API took in: a retried event_id gets its first receipt back.
create table if not exists submissions (
    event_id uuid primary key,
    election_id text not null references elections on delete cascade,
    receipt text not null,
    payload_sha256 text not null,
    received_at timestamptz not null default now()
);

create index if not exists submissions_receipt_idx on submissions (receipt);

-- Pipeline health, per batch: how far behind the broker the tally is, and how fresh.
alter table tally_batches add column if not exists topic text;
alter table tally_batches add column if not exists consumer_lag bigint;
alter table tally_batches add column if not exists freshness_ms integer;

create or replace view pipeline_health as
select
    topic,
    committed_at as last_batch_at,
    events as batch_events,
    accepted as batch_accepted,
    rejected as batch_rejected,
    duration_ms as batch_duration_ms,
    consumer_lag,
    freshness_ms,
    newest_event_at
from (
    select
        tally_batches.*,
        row_number() over (partition by topic order by tally_batch_id desc) as recency
    from tally_batches
) as batches
where recency = 1;

-- The data-quality gate on the aggregates: the latest verdict per election. A failed
-- check puts the election's results on "quality hold" until a later check passes.
create table if not exists result_quality (
    election_id text primary key references elections on delete cascade,
    status text not null check (status in ('ok', 'quality_hold')),
    checked_at timestamptz not null,
    validation_run_id bigint references validation_runs on delete set null,
    failures jsonb not null default '[]'
);

-- What each aggregate stood at when last checked, so a check can see a count go down.
create table if not exists aggregate_snapshots (
    election_id text not null references elections on delete cascade,
    metric text not null,
    item text not null,
    value bigint not null,
    primary key (election_id, metric, item)
);
