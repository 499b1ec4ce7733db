"""Settings from the environment, with local defaults that match the embedded dev stack."""

from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, Field, IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ModelPrice(BaseModel):
    """USD per million tokens for one model."""

    input_per_million: float = Field(ge=0)
    output_per_million: float = Field(ge=0)


DEFAULT_LLM_PRICES = {
    # OpenAI list prices (standard tier, 2025); override with LLM_PRICES='{"model": {...}}'.
    "gpt-4o-mini": ModelPrice(input_per_million=0.15, output_per_million=0.60),
    "gpt-4o": ModelPrice(input_per_million=2.50, output_per_million=10.00),
    "gpt-4.1": ModelPrice(input_per_million=2.00, output_per_million=8.00),
    "gpt-4.1-mini": ModelPrice(input_per_million=0.40, output_per_million=1.60),
    "gpt-4.1-nano": ModelPrice(input_per_million=0.10, output_per_million=0.40),
    "gpt-5": ModelPrice(input_per_million=1.25, output_per_million=10.00),
    "gpt-5-mini": ModelPrice(input_per_million=0.25, output_per_million=2.00),
    "gpt-5-nano": ModelPrice(input_per_million=0.05, output_per_million=0.40),
}


class Settings(BaseSettings):
    """Every knob a worker reads; environment variable names are the field names upper-cased."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Temporal
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_api_key: SecretStr | None = None
    temporal_tls: bool = False
    task_queue_prefix: str = ""

    # PostgreSQL: DATABASE_URL wins over the POSTGRES_* parts.
    database_url: SecretStr | None = None
    postgres_host: str = "localhost"
    postgres_port: int = 5432
    postgres_user: str = "postgres"
    postgres_password: SecretStr = SecretStr("postgres")
    postgres_db: str = "antifragile"

    # Object store: S3 when S3_BUCKET is set, else a directory.
    storage_dir: Path = Path(".state/objects")
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    aws_access_key_id: SecretStr | None = None
    aws_secret_access_key: SecretStr | None = None

    # Documents
    max_document_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    max_history_text_chars: int = Field(default=24_000, gt=0)
    # Bounded work per upload: past a limit the upload fails with DocumentTooLarge naming its variable.
    max_document_pages: int = Field(default=10_000, gt=0)
    max_document_chars: int = Field(default=25_000_000, gt=0)
    # Extraction runs in child processes, at most `extract_processes` at once per worker; a child is
    # killed past the time limit (kept under the upload activity's 10-minute start-to-close, which also
    # covers storing) or fails when it needs more address space than the memory limit.
    max_extract_seconds: float = Field(default=300.0, gt=0, le=480)
    max_extract_memory_mb: int = Field(default=4_096, ge=256)
    extract_processes: int = Field(default=4, ge=1)
    ocr_enabled: bool = True  # read PDF pages without a text layer by OCR
    max_xlsx_cells: int = Field(default=2_000_000, gt=0)  # non-empty cells across a workbook's sheets
    # XML nesting in DOCX parts; libxml2 refuses deeper than 256 anyway (huge_tree stays off).
    max_xml_depth: int = Field(default=128, ge=16, le=256)

    # Base models a training request may name besides the presets (see antifragile_core.base_models).
    model_dir: Path | None = None  # local model directories; a request names one relative to this
    base_model_hub_ids: list[str] = Field(default_factory=list)  # hub ids the operator allows

    # Training readiness thresholds
    readiness_min_documents: int = 3
    readiness_min_tokens: int = 2_000

    # LLM endpoint: OpenAI itself, or any OpenAI-compatible server via OPENAI_BASE_URL.
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_model_summary: str | None = None
    openai_model_analysis: str | None = None
    openai_model_research: str | None = None
    openai_model_catchball: str | None = None
    openai_model_wisdom: str | None = None
    openai_context_tokens: int = Field(default=12_000, gt=500)
    # Per-request timeout; retries belong to Temporal (see antifragile_worker_openai.llm), not the client.
    openai_timeout_seconds: float = Field(default=90.0, gt=0)

    @field_validator("openai_api_key", "openai_base_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`OPENAI_API_KEY=` (say, in an env file) means no key, not an empty one."""
        return None if isinstance(value, str) and not value.strip() else value

    # LLM costs, budgets and rate limits (collective intelligence)
    llm_prices: dict[str, ModelPrice] = Field(default_factory=lambda: dict(DEFAULT_LLM_PRICES))
    llm_budget_usd: float | None = Field(default=None, ge=0)  # per org per calendar month (UTC)
    llm_budget_overrides: dict[str, float] = Field(default_factory=dict)  # org id -> monthly USD
    llm_budget_switch_fraction: float = Field(default=0.8, gt=0, le=1)
    openai_model_economy: str | None = None  # the cheaper model used once spend passes the fraction
    llm_max_output_tokens: int = Field(default=4_000, gt=0)  # per call: bounds the pre-call reservation
    openai_queue_activities_per_second: float | None = Field(default=None, gt=0)  # queue-wide, Temporal
    openai_tokens_per_minute: int | None = Field(default=None, gt=0)  # per worker
    openai_web_search: bool = False  # hosted web search for research; OpenAI's own endpoint only
    llm_web_search_price_usd: float = Field(default=0.025, ge=0)  # per hosted search; reserved and booked
    research_max_passages: int = Field(default=8, ge=1, le=50)

    # Operations: competitor scans, notifications, health checks
    scan_user_agent: str = "AntifragileFlowBot/0.1 (+competitor monitoring; respects robots.txt)"
    scan_timeout_seconds: float = Field(default=20.0, gt=0)
    scan_max_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    scan_per_host_concurrency: int = Field(default=2, ge=1)
    scan_per_host_delay_seconds: float = Field(default=0.5, ge=0)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "antifragile@localhost"
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    webhook_timeout_seconds: float = Field(default=15.0, gt=0)
    # Scans and webhooks reach public addresses only; these networks (CIDR) are allowed besides, for
    # on-premises targets. Checked after DNS resolution and on every redirect hop.
    outbound_allowed_networks: list[IPvAnyNetwork] = Field(default_factory=list)
    health_check_timeout_seconds: float = Field(default=5.0, gt=0)

    # HTTP API and portal (antifragile-api): participant links are HMAC-signed with API_SIGNING_SECRET.
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_public_url: str | None = None  # the base of participant links; default http://API_HOST:API_PORT
    api_signing_secret: SecretStr | None = None  # required to start sessions with participant links
    api_link_hours: float = Field(default=7 * 24, gt=0)  # how long a participant link stays valid

    # Worker
    log_level: str = "INFO"
    graceful_shutdown_seconds: float = 30.0
    max_concurrent_activities: int = 20
    # Worker Versioning (antifragile_core.versioning): on where Temporal's Worker Controller injects the
    # version (Kubernetes) or WORKER_VERSIONING asks for it (a fleet promoted by `antifragile fleet`); off
    # elsewhere (`antifragile dev`, compose, tests), where nothing would make a version current.
    worker_versioning: bool = False
    temporal_deployment_name: str | None = None  # injected by the Worker Controller
    temporal_worker_build_id: str | None = None  # injected by the Worker Controller
    build_id: str | None = None  # the image sets it; else <package version>+<GIT_COMMIT or git or "dev">
    git_commit: str | None = None
    # Stop after this many activities (a worker run as one Kubernetes Job per training); unset: never.
    exit_after_activities: int | None = Field(default=None, ge=1)

    # worker-ml: how often heartbeats (progress, checkpoint key) reach Temporal at most; the SDK's own
    # default waits up to a minute, too slow for live progress, cancellation and an up-to-date resume point.
    heartbeat_throttle_seconds: float = Field(default=1.0, gt=0)

    # Deployment: health endpoints, Prometheus metrics, tracing. Off unless set (the images set the ports),
    # so that several workers in one process or on one test machine never fight over a port.
    health_port: int | None = Field(default=None, ge=1, le=65535)  # serves /livez and /readyz
    metrics_port: int | None = Field(default=None, ge=1, le=65535)  # Prometheus /metrics
    metrics_interval_seconds: float = Field(default=15.0, gt=0)  # queue backlog and resource gauges
    # A single-use worker (EXIT_AFTER_ACTIVITIES) serves /metrics this long after its last activity before it
    # exits, so that Prometheus scrapes its final counters; more than two scrape intervals. 0: exit at once.
    metrics_final_scrape_seconds: float = Field(default=0.0, ge=0)
    otel_exporter_otlp_endpoint: str | None = None  # OTLP/HTTP collector, e.g. http://otel:4318
    otel_service_name: str = "antifragile-worker"

    @property
    def llm_configured(self) -> bool:
        """An LLM can be called: a key for OpenAI, or a base URL for a compatible server."""
        return self.openai_api_key is not None or self.openai_base_url is not None

    @property
    def llm_skipped_reason(self) -> str | None:
        """Why document batches skip their LLM steps (summary, analysis); None when they run."""
        if self.llm_configured:
            return None
        return "no OPENAI_API_KEY or OPENAI_BASE_URL is set, so summary and analysis were not run"

    @cached_property
    def postgres_dsn(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        password = self.postgres_password.get_secret_value()
        return (
            f"postgresql://{self.postgres_user}:{password}@{self.postgres_host}:"
            f"{self.postgres_port}/{self.postgres_db}"
        )

    def model_for(self, activity: str) -> str:
        """The model configured for one activity kind (summary, analysis, ...), else the default."""
        return getattr(self, f"openai_model_{activity}", None) or self.openai_model

    def budget_for(self, organization_id: str) -> float | None:
        """The organisation's monthly LLM budget in USD; None means unlimited (spend is still recorded)."""
        return self.llm_budget_overrides.get(organization_id, self.llm_budget_usd)
