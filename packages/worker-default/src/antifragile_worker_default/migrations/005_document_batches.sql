-- Document batches: the client registers the manifest (one row per upload, numbered from 0), the
-- DocumentProcessingWorkflow pages through it, and each document's child workflow records its outcome on
-- its own row, so a retried record writes once and the workflow's history never holds the list.
CREATE TABLE IF NOT EXISTS document_batches (
    organization_id text NOT NULL,
    batch_id text NOT NULL,
    total integer NOT NULL,
    llm_skipped_reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, batch_id)
);

CREATE TABLE IF NOT EXISTS document_batch_items (
    organization_id text NOT NULL,
    batch_id text NOT NULL,
    seq integer NOT NULL,
    filename text NOT NULL,
    upload_key text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    document_id uuid REFERENCES documents (id) ON DELETE SET NULL,
    duplicate boolean NOT NULL DEFAULT false,
    errors jsonb NOT NULL DEFAULT '[]',   -- [{step, type, message}]
    summary jsonb,                        -- DocumentSummary, when the LLM steps ran
    analysis jsonb,                       -- DocumentAnalysis
    finished_at timestamptz,
    PRIMARY KEY (organization_id, batch_id, seq),
    FOREIGN KEY (organization_id, batch_id) REFERENCES document_batches ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS document_batch_items_document ON document_batch_items (document_id);
CREATE INDEX IF NOT EXISTS document_batch_items_failed
    ON document_batch_items (organization_id, batch_id, seq) WHERE status = 'failed';
