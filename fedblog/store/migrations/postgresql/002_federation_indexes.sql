-- PostgreSQL's twin of ../002_federation_indexes.sql (same number, same tables; ids are identities a copy may set).
-- Federation lookups that would otherwise scan: queue status by host, activities of a deleted object,
-- unprocessed inbox rows at start.
CREATE INDEX deliveries_host ON deliveries (host, status);
CREATE INDEX outbox_object ON outbox (object_id, type);
CREATE INDEX inbox_activities_status ON inbox_activities (status, received_at);
CREATE INDEX followers_shared_inbox ON followers (shared_inbox);
CREATE INDEX followers_inbox ON followers (inbox);
