-- Turn notices are sent by the catchball workflow (its session carries the targets) and each link once at
-- the start, so the API keeps no notice targets: the table, and the personal addresses in it, go.
DROP TABLE IF EXISTS api_notice_targets;
