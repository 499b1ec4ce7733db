-- Each LLM call's row is keyed by the call id the worker draws before the request, so booking it is
-- idempotent and can be retried until it lands. 'unknown': no answer came back but the call may have been
-- billed (timeout, 5xx after the request was taken), booked at its reserved amount. usage_source says
-- where the tokens came from: the endpoint's report, a local estimate (the endpoint reported none), or the
-- reservation (unknown outcome); none while reserved or once released.
ALTER TABLE llm_costs ADD COLUMN IF NOT EXISTS call_id uuid;
CREATE UNIQUE INDEX IF NOT EXISTS llm_costs_call_id ON llm_costs (call_id);
ALTER TABLE llm_costs DROP CONSTRAINT IF EXISTS llm_costs_status_check;
ALTER TABLE llm_costs ADD CONSTRAINT llm_costs_status_check
    CHECK (status IN ('reserved', 'settled', 'unknown', 'released'));
ALTER TABLE llm_costs ADD COLUMN IF NOT EXISTS usage_source text
    CHECK (usage_source IN ('reported', 'estimated', 'reserved'));
UPDATE llm_costs SET usage_source = 'reported' WHERE status = 'settled' AND usage_source IS NULL;
ALTER TABLE llm_costs ADD COLUMN IF NOT EXISTS web_searches integer NOT NULL DEFAULT 0;
