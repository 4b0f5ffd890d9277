-- Ballots waiting for their group of k (tallyflow/votes/groups.py), kept in PostgreSQL
-- instead of the broker. A tally batch moves its committed offsets past every event it
-- reads, in the same transaction that keeps the ballots it may not count yet here, so a
-- held ballot holds up nothing else and is as durable as the ledger.
--
-- A row holds what the broker held of the ballot, already checked: its voter, cell and
-- selections. It is the tally's (tallyflow_app) alone; the casting API may read a receipt
-- (to say the ballot waits for its group) and the site only the election-wide count
-- (ballots_waiting). A ballot's check-in is written only when its group is counted, in the
-- transaction that counts the ballot.
create table if not exists held_ballots (
    topic text not null,
    partition integer not null,
    kafka_offset bigint not null,
    log_epoch integer not null default 0,
    election_id text not null references elections,
    voter_id text not null,
    region_id text not null,
    age_band text,
    gender text,
    party_id text,
    vote_method text,
    judged_at timestamptz not null,
    broker_timestamp timestamptz,
    receipt text,
    selections jsonb not null,
    marks jsonb not null,
    held_at timestamptz not null default clock_timestamp(),
    primary key (topic, partition, log_epoch, kafka_offset),
    -- One ballot per voter waits at most: a second one is a duplicate.
    unique (election_id, voter_id),
    foreign key (election_id, voter_id) references voters (election_id, voter_id)
);

create index if not exists held_ballots_cell_idx on held_ballots (election_id, region_id);
create index if not exists held_ballots_receipt_idx on held_ballots (receipt);

-- How many of an election's ballots wait for their group, election-wide (never per
-- precinct): what the results site says beside the count.
create table if not exists ballots_waiting (
    election_id text primary key references elections,
    ballots integer not null default 0 check (ballots >= 0),
    updated_at timestamptz not null default clock_timestamp()
);

revoke all on held_ballots from tallyflow_casting, tallyflow_site;
grant select (receipt, election_id) on held_ballots to tallyflow_casting;
grant select on ballots_waiting to tallyflow_site;
