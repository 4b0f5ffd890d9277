-- The vote ledger, its aggregates and the tally pipeline's bookkeeping.
-- A tally batch writes all of it, with the new consumer offsets, in one transaction.

-- Where the tally has read each partition to: the next offset to read.
create table if not exists consumer_offsets (
    topic text not null,
    partition integer not null,
    next_offset bigint not null check (next_offset >= 0),
    updated_at timestamptz not null default now(),
    primary key (topic, partition)
);

-- Turnout: who has voted, once per election. No choices here.
create table if not exists checkins (
    election_id text not null references elections,
    voter_id text not null,
    region_id text not null,
    checked_in_at timestamptz not null,
    primary key (election_id, voter_id),
    foreign key (election_id, voter_id) references voters (election_id, voter_id)
);

-- Counted ballots: the choices, with no voter id, no credential and no exact time or order.
create table if not exists ballots (
    ballot_id uuid primary key,
    election_id text not null references elections,
    region_id text not null,
    cast_window timestamptz not null,
    selections jsonb not null
);

create index if not exists ballots_election_idx on ballots (election_id, region_id);

-- Events that were not counted, kept whole with why.
create table if not exists rejected_events (
    topic text not null,
    partition integer not null,
    kafka_offset bigint not null,
    election_id text,
    reason text not null check (
        reason in (
            'malformed', 'unknown_election', 'unknown_credential', 'not_open', 'closed',
            'unknown_contest', 'unknown_option', 'duplicate'
        )
    ),
    detail text not null,
    raw_payload bytea,
    broker_timestamp timestamptz,
    rejected_at timestamptz not null default now(),
    primary key (topic, partition, kafka_offset)
);

create index if not exists rejected_events_election_idx on rejected_events (election_id, reason);

-- Aggregates. The site reads these, never the ledger.
create table if not exists option_totals (
    election_id text not null,
    contest_id text not null,
    option_id text not null,
    votes bigint not null default 0,
    primary key (election_id, contest_id, option_id)
);

create table if not exists option_region_totals (
    election_id text not null,
    contest_id text not null,
    option_id text not null,
    region_id text not null,
    votes bigint not null default 0,
    primary key (election_id, contest_id, option_id, region_id)
);

-- Per contest: ballots that reached it, and how many were blank, under- or overvoted.
create table if not exists contest_ballot_totals (
    election_id text not null,
    contest_id text not null,
    ballots bigint not null default 0,
    blank_ballots bigint not null default 0,
    undervoted_ballots bigint not null default 0,
    overvoted_ballots bigint not null default 0,
    primary key (election_id, contest_id)
);

create table if not exists turnout_by_region (
    election_id text not null,
    region_id text not null,
    ballots bigint not null default 0,
    primary key (election_id, region_id)
);

create table if not exists turnout_by_demographic (
    election_id text not null,
    age_band text not null,
    gender text not null,
    ballots bigint not null default 0,
    primary key (election_id, age_band, gender)
);

create table if not exists ballots_per_minute (
    election_id text not null,
    minute timestamptz not null,
    ballots bigint not null default 0,
    primary key (election_id, minute)
);

create table if not exists rejected_totals (
    election_id text not null,
    reason text not null,
    events bigint not null default 0,
    primary key (election_id, reason)
);

-- One row per tally batch: what it read, what it did, how long it took.
create table if not exists tally_batches (
    tally_batch_id bigint generated always as identity primary key,
    started_at timestamptz not null,
    committed_at timestamptz not null default now(),
    events bigint not null,
    accepted bigint not null,
    rejected bigint not null,
    duration_ms integer not null,
    offsets jsonb not null,
    newest_event_at timestamptz
);
