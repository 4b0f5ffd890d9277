-- The casting API's outbox. A ballot the API answers 202 for is first committed here whole
-- (payload), then published; the relay publishes again whatever the broker lost or never
-- took. Once the tally has counted or rejected it (its receipt is on a check-in or a
-- rejected event), the row is settled and its payload is dropped: only the receipt stays.
alter table submissions add column if not exists payload bytea;
-- The topic it is published to (the relay of one topic never touches another's).
alter table submissions add column if not exists topic text;
-- Where the broker acknowledged it: a row the tally has read past unsettled was lost.
alter table submissions add column if not exists published_partition integer;
alter table submissions add column if not exists published_offset bigint;
alter table submissions add column if not exists published_at timestamptz;
alter table submissions add column if not exists publish_attempts integer not null default 0;
alter table submissions add column if not exists settled_at timestamptz;

create index if not exists submissions_unsettled_idx
on submissions (topic, published_partition, published_offset)
where settled_at is null;
