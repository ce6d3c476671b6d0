-- E-mail on several workers: a commenter's queued mail is claimed with a lease (store/subscriptions.py), and the
-- author's digest and the fan-out of publications into queued mails, which each read one high-water mark, run
-- under a named lease (store/leases.py), so two workers never send one mail twice. A killed worker's leases expire.
ALTER TABLE subscriber_mails ADD COLUMN locked_until TEXT;
ALTER TABLE subscriber_mails ADD COLUMN locked_by TEXT;
CREATE TABLE mail_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    locked_until TEXT NOT NULL
);
