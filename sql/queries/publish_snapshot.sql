-- Publish the next snapshot; nothing when another process published that version first.
insert into published_snapshots (
    election_id, version, content, content_sha256, previous_sha256, chain_sha256
)
values (
    %(election_id)s, %(version)s, %(content)s, %(content_sha256)s, %(previous_sha256)s,
    %(chain_sha256)s
)
on conflict (election_id, version) do nothing
returning version
