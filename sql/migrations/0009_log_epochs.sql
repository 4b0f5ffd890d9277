-- The broker's log can be replaced under the tally: an in-memory broker restarted, a topic
-- deleted and created again, events removed by retention before they were read. The tally
-- then re-bases onto the new log instead of skipping it: each partition's offsets start a
-- new epoch, the events consumed in earlier epochs are kept in consumed_before (so
-- "counted + rejected = consumed" still balances), and the change is recorded.
alter table consumer_offsets add column if not exists log_epoch integer not null default 0;
alter table consumer_offsets add column if not exists consumed_before bigint not null default 0;
-- The topic id the broker reported when the current epoch began.
alter table consumer_offsets add column if not exists topic_id text;

alter table rejected_events add column if not exists log_epoch integer not null default 0;

do $$
begin
    -- An offset is unique within one epoch of a partition only.
    if not exists (
        select 1
        from pg_constraint
        where conname = 'rejected_events_pkey'
            and array_length(conkey, 1) = 4
    ) then
        alter table rejected_events drop constraint if exists rejected_events_pkey;
        alter table rejected_events add primary key (topic, partition, log_epoch, kafka_offset);
    end if;
end
$$;

create table if not exists log_resets (
    log_reset_id bigint generated always as identity primary key,
    topic text not null,
    partition integer not null,
    old_epoch integer not null,
    old_next_offset bigint not null,
    new_end_offset bigint not null,
    reason text not null,
    detected_at timestamptz not null default now()
);
