-- Elections, their contests and options, parties, regions, the voter roll and its checks.
-- Every table is keyed by election: one election's roll never mixes with another's.

create table if not exists elections (
    election_id text primary key,
    title text not null,
    description text not null default '',
    opens_at timestamptz not null,
    closes_at timestamptz not null,
    status text not null default 'draft'
        check (status in ('draft', 'scheduled', 'open', 'closed', 'certified')),
    is_tally_embargoed boolean not null default false,
    is_test boolean not null default false,
    voting_age integer not null default 18,
    definition jsonb not null,
    definition_sha256 text not null,
    registrations_updated_at timestamptz,
    roll_fingerprint text,
    roll_frozen_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    check (closes_at > opens_at)
);

create table if not exists parties (
    election_id text not null references elections on delete cascade,
    party_id text not null,
    name text not null,
    abbreviation text not null,
    colour text not null,
    primary key (election_id, party_id)
);

create table if not exists regions (
    election_id text not null references elections on delete cascade,
    region_id text not null,
    name text not null,
    level text not null,
    parent_region_id text,
    population integer,
    -- The registrar's own count, when the definition gives one; checked against the roll.
    expected_voters integer,
    -- Counted from the roll whenever it is loaded.
    registered_voters integer,
    primary key (election_id, region_id),
    foreign key (election_id, parent_region_id) references regions (election_id, region_id)
);

create table if not exists contests (
    election_id text not null references elections on delete cascade,
    contest_id text not null,
    title text not null,
    kind text not null check (kind in ('plurality', 'approval', 'yes_no', 'ranked')),
    seats integer not null default 1 check (seats >= 1),
    threshold text,
    ballot_order integer not null,
    primary key (election_id, contest_id)
);

create table if not exists contest_options (
    election_id text not null,
    contest_id text not null,
    option_id text not null,
    name text not null,
    party_id text,
    ballot_order integer not null,
    photo_url text,
    bio text,
    primary key (election_id, contest_id, option_id),
    foreign key (election_id, contest_id) references contests on delete cascade,
    foreign key (election_id, party_id) references parties (election_id, party_id)
);

-- The voter roll. Personal data: only the pipeline's own role reads it, never the site.
-- A voter's credential is stored only as its SHA-256 hash.
create table if not exists voters (
    election_id text not null references elections on delete cascade,
    voter_id text not null,
    full_name text not null,
    birth_date date not null,
    gender text not null check (gender in ('female', 'male', 'other', 'unknown')),
    region_id text not null,
    registered_on date not null,
    credential_sha256 bytea not null unique,
    primary key (election_id, voter_id),
    foreign key (election_id, region_id) references regions (election_id, region_id)
);

create index if not exists voters_region_idx on voters (election_id, region_id);

-- Rows of an imported roll that could not be loaded, with why. Nothing is dropped silently.
create table if not exists quarantined_registrations (
    quarantined_registration_id bigint generated always as identity primary key,
    election_id text not null references elections on delete cascade,
    source_name text not null,
    line_number integer not null,
    raw_row text not null,
    reason text not null,
    quarantined_at timestamptz not null default now()
);

-- One row per Great Expectations suite run.
create table if not exists validation_runs (
    validation_run_id bigint generated always as identity primary key,
    election_id text references elections on delete cascade,
    suite_name text not null,
    validated_at timestamptz not null default now(),
    is_passed boolean not null,
    evaluated_expectations integer not null,
    failed_expectations integer not null,
    warned_expectations integer not null,
    row_count bigint not null,
    failures jsonb not null default '[]',
    report_url text
);

create index if not exists validation_runs_latest_idx
    on validation_runs (election_id, suite_name, validated_at desc);

-- Who did what to an election, when, and how it went.
create table if not exists election_audit_log (
    audit_id bigint generated always as identity primary key,
    election_id text not null references elections on delete cascade,
    action text not null,
    actor text not null,
    outcome text not null,
    detail jsonb not null default '{}',
    recorded_at timestamptz not null default now()
);

-- Every region paired with itself and each region below it, so counts roll up the tree.
create or replace view region_ancestry as
with recursive ancestry as (
    select
        election_id,
        region_id as ancestor_id,
        region_id
    from regions

    union all

    select
        regions.election_id,
        regions.parent_region_id as ancestor_id,
        ancestry.region_id
    from ancestry
    inner join regions
        on regions.election_id = ancestry.election_id
        and regions.region_id = ancestry.ancestor_id
    where regions.parent_region_id is not null
)

select election_id, ancestor_id, region_id
from ancestry;

-- Voters on the roll in each region and everything below it. Filter by election_id: the
-- filter reaches the voters scan, so one election's count reads only its own roll.
create or replace view region_roll_counts as
with roll_counts as (
    select
        election_id,
        region_id,
        count(*) as voter_count
    from voters
    group by election_id, region_id
)

select
    region_ancestry.election_id,
    region_ancestry.ancestor_id as region_id,
    coalesce(sum(roll_counts.voter_count), 0)::integer as roll_count
from region_ancestry
left join roll_counts
    on
        roll_counts.election_id = region_ancestry.election_id
        and roll_counts.region_id = region_ancestry.region_id
group by region_ancestry.election_id, region_ancestry.ancestor_id;
