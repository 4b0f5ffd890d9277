copy rejected_events (
    topic, partition, kafka_offset, election_id, reason, detail, raw_payload,
    broker_timestamp, receipt, log_epoch
)
from stdin with (format csv)
