-- Pages whose text was read by OCR (1-based) and the mean recognition score of their lines.
ALTER TABLE documents
    ADD COLUMN ocr_pages integer[] NOT NULL DEFAULT '{}',
    ADD COLUMN ocr_confidence real;
