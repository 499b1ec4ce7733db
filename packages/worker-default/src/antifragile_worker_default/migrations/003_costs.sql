-- LLM cost ledger: one row per LLM call, written by the openai-queue worker. A call first inserts a
-- 'reserved' row holding an upper bound of its cost, then settles it with the usage the endpoint reported
-- (or releases it when the call failed before spending). Budget checks sum settled costs plus live
-- reservations under a per-organisation advisory lock, so concurrent calls cannot overrun a budget.
CREATE TABLE IF NOT EXISTS llm_costs (
    id bigserial PRIMARY KEY,
    organization_id text NOT NULL,
    activity text NOT NULL,
    model text NOT NULL,
    status text NOT NULL CHECK (status IN ('reserved', 'settled', 'released')),
    reserved_usd numeric(18, 8) NOT NULL,
    requests integer NOT NULL DEFAULT 0,
    input_tokens integer NOT NULL DEFAULT 0,
    output_tokens integer NOT NULL DEFAULT 0,
    cost_usd numeric(18, 8) NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    settled_at timestamptz
);
CREATE INDEX IF NOT EXISTS llm_costs_org_created ON llm_costs (organization_id, created_at);

-- Searchable passages of each processed document's text, indexed on first search (see retrieval.py);
-- they go with their document.
CREATE TABLE IF NOT EXISTS document_passages (
    organization_id text NOT NULL,
    document_id uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    passage_no integer NOT NULL,
    filename text NOT NULL,
    body text NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, filename || ' ' || body)) STORED,
    PRIMARY KEY (organization_id, document_id, passage_no)
);
CREATE INDEX IF NOT EXISTS document_passages_tsv ON document_passages USING gin (tsv);
