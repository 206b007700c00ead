DROP TABLE audit_log;
DROP TABLE mail_outbox;
DROP TABLE account_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE organisations;
