-- What the results site published, kept and chained. Each state of an election's results
-- export the site serves is a snapshot with the next version number; its chain hash is
-- SHA-256 over the previous snapshot's chain hash and this snapshot's content hash, so
-- editing, removing or reordering any published snapshot breaks every later link
-- (docs/feeds.md; scripts/verify_feed.py checks it from the public API).
create table if not exists published_snapshots (
    election_id text not null references elections,
    version integer not null check (version >= 1),
    published_at timestamptz not null default now(),
    content text not null,
    content_sha256 text not null,
    previous_sha256 text not null,
    chain_sha256 text not null,
    primary key (election_id, version)
);

-- Append-only: no runtime role may change or remove what was published.
create or replace function refuse_changing_published() returns trigger
language plpgsql as $$
begin
    raise exception 'published snapshots are never changed or removed'
        using errcode = 'P0001';
end;
$$;

drop trigger if exists published_snapshots_lock on published_snapshots;
create trigger published_snapshots_lock before update or delete on published_snapshots
for each row execute function refuse_changing_published();
drop trigger if exists published_snapshots_truncate_lock on published_snapshots;
create trigger published_snapshots_truncate_lock before truncate on published_snapshots
for each statement execute function refuse_changing_published();

revoke update, delete, truncate on published_snapshots from tallyflow_app;
-- The site publishes what it serves: it may add a snapshot, never change one.
grant select, insert on published_snapshots to tallyflow_site;
