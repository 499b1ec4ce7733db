-- Organisation-scoped API keys. Only the sha256 of a key is stored; key_id finds the row, the hash is
-- compared in constant time. A revoked key keeps its row (revoked_at set) for the audit trail.
CREATE TABLE IF NOT EXISTS api_keys (
    key_id text PRIMARY KEY,
    organization_id text NOT NULL,
    role text NOT NULL CHECK (role IN ('admin', 'member')),
    key_hash bytea NOT NULL,
    label text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX IF NOT EXISTS api_keys_org ON api_keys (organization_id);

-- Files staged by the API and not yet handed to a batch: the upload id is the object key's last segment.
CREATE TABLE IF NOT EXISTS api_uploads (
    upload_id text PRIMARY KEY,
    organization_id text NOT NULL,
    filename text NOT NULL,
    size_bytes bigint NOT NULL,
    batch_id text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS api_uploads_org ON api_uploads (organization_id, created_at);
