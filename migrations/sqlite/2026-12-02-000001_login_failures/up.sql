-- Failed sign-ins, shared by every instance: one row per failure and throttle key (a SHA-256 of
-- "account:…|address:…" or "address:…", so neither the typed email nor the address is kept in
-- clear). Rows older than the throttle window are deleted as new failures come in; the ids are
-- dense, so the newest id also caps the table's size.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key_hash TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key_hash, failed_at);
CREATE INDEX login_failures_failed_at ON login_failures (failed_at);
