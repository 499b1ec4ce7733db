-- Competitor findings: one row per (organisation, item mentioning a competitor), so rescans never duplicate.
CREATE TABLE IF NOT EXISTS competitor_findings (
    organization_id text NOT NULL,
    finding_id text NOT NULL,
    competitor text NOT NULL,
    title text NOT NULL,
    url text NOT NULL,
    source text NOT NULL,
    published timestamptz,
    snippet text NOT NULL,
    scan_id text NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, finding_id)
);
CREATE INDEX IF NOT EXISTS competitor_findings_first_seen ON competitor_findings (organization_id, first_seen);

-- Notification claims: a row is claimed before sending and marked delivered after, keyed for idempotency.
CREATE TABLE IF NOT EXISTS notification_deliveries (
    organization_id text NOT NULL,
    idempotency_key text NOT NULL,
    channel text NOT NULL,
    status text NOT NULL CHECK (status IN ('sending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 1,
    error text,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    PRIMARY KEY (organization_id, idempotency_key)
);
