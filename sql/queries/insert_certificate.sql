insert into certificates (election_id, certificate_sha256, canonical_json, certificate, html)
values (%(election_id)s, %(certificate_sha256)s, %(canonical_json)s, %(certificate)s, %(html)s)
returning certified_at
