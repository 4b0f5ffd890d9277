-- The results site's freshness line says when the tally re-based onto a replaced broker
-- log (a restarted in-memory broker, a recreated topic): partitions, offsets and reasons,
-- nothing about any ballot or voter.
grant select on log_resets to tallyflow_site;
