"""Which base model a training request may name: a preset, a hub id the operator allows, or a directory
under the operator's MODEL_DIR.

The name comes from an organisation's request, so it is never taken as an arbitrary path: with the
directory store a path could point at another organisation's adapter, or at any file the ML worker
can read. Both the submit check (worker-default) and the loader (worker-ml) go through here.
"""

from .contracts.training import BASE_MODEL_PRESETS
from .errors import INVALID_INPUT, bad_input
from .settings import Settings


def base_model_source(name: str, settings: Settings) -> str:
    """What `name` loads: a hub id, SMOKE, or an absolute directory inside MODEL_DIR.

    Raises a non-retryable InvalidInput naming what is accepted. Existence of a directory is worker-ml's
    to check: the model directory is mounted there, not on the default queue.
    """
    if name in BASE_MODEL_PRESETS:
        return BASE_MODEL_PRESETS[name]
    if name in settings.base_model_hub_ids:
        return name
    if settings.model_dir is not None:
        root = settings.model_dir.resolve()
        path = (root / name).resolve()
        if path != root and path.is_relative_to(root):
            return str(path)
    allowed = f"a preset ({', '.join(BASE_MODEL_PRESETS)})"
    if settings.base_model_hub_ids:
        allowed += f", a hub id in BASE_MODEL_HUB_IDS ({', '.join(settings.base_model_hub_ids)})"
    allowed += (
        f", or a model directory under MODEL_DIR ({settings.model_dir})"
        if settings.model_dir is not None
        else " (an operator can allow local models with MODEL_DIR)"
    )
    raise bad_input(INVALID_INPUT, f"base model {name!r} is not allowed: use {allowed}")
