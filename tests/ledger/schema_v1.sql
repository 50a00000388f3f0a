-- The ledger's schema version 1 (campaign-runner before the jobs.refused column),
-- kept verbatim to build version 1 files for the upgrade tests. Never edit it.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE runs (
    run_id      TEXT PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    plan_hash   TEXT,
    command     TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    exit_code   INTEGER,
    summary     TEXT
) STRICT;

CREATE TABLE vouchers (
    voucher_key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    fields      TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('created', 'failed', 'planned', 'review', 'sending', 'unknown')),
    remote_id   TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    msg_id      TEXT,
    sent_at     TEXT,
    last_error  TEXT,
    return_code TEXT,
    return_msg  TEXT,
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE jobs (
    job_id         TEXT PRIMARY KEY,
    voucher_key    TEXT NOT NULL REFERENCES vouchers (voucher_key),
    audience       TEXT NOT NULL,
    customer_key   TEXT NOT NULL,
    key_kind       TEXT NOT NULL CHECK (key_kind IN ('cm_code', 'cm_id', 'cm_source_code')),
    seq            INTEGER NOT NULL,
    customer_name  TEXT,
    state          TEXT NOT NULL CHECK (state IN ('done', 'failed', 'planned', 'review', 'sending', 'unknown')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    msg_id         TEXT,
    sent_at        TEXT,
    last_error     TEXT,
    return_code    TEXT,
    return_msg     TEXT,
    remote_ref     TEXT,
    planned_in_run TEXT,
    active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    updated_at     TEXT NOT NULL
) STRICT;

CREATE INDEX jobs_state ON jobs (state);
CREATE INDEX jobs_voucher_state ON jobs (voucher_key, state);
CREATE INDEX jobs_voucher_customer ON jobs (voucher_key, customer_key);
CREATE INDEX vouchers_state ON vouchers (state);

CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    run_id      TEXT,
    entity_kind TEXT NOT NULL CHECK (entity_kind IN ('job', 'voucher', 'run')),
    entity_id   TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    detail      TEXT NOT NULL
) STRICT;

CREATE INDEX events_entity ON events (entity_id);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;

