-- Documents of an organisation, one row per distinct content (hash of the original bytes).
-- Objects are written before the row, keyed by the same hash, so a retried upload converges.
CREATE TABLE documents (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id text NOT NULL,
    content_hash text NOT NULL,           -- sha256 of the original bytes
    text_hash text NOT NULL,              -- sha256 of the text modulo case and whitespace
    filename text NOT NULL,               -- as first uploaded
    media_type text NOT NULL,
    title text,
    page_count integer NOT NULL,
    char_count integer NOT NULL,
    size_bytes bigint NOT NULL,
    original_key text NOT NULL,
    text_key text NOT NULL,
    upload_key text NOT NULL,             -- the upload that created the row; others are duplicates
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, content_hash)
);
CREATE INDEX documents_org_text_hash ON documents (organization_id, text_hash);

-- Every upload and the document it resolved to: the same bytes uploaded again add a row here only.
CREATE TABLE document_uploads (
    organization_id text NOT NULL,
    upload_key text NOT NULL,
    document_id uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    filename text NOT NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, upload_key)
);
CREATE INDEX document_uploads_document ON document_uploads (document_id);
