"""The one resume digest: what makes a spec drafted again come out the way the first one did.

:func:`settings_digest` covers what shapes the model's answers besides the brief and the template: the
provider, the model the endpoint serves, its server (replicas of one model count as one: adding or
removing one changes nothing), a local GGUF's path, the seed, --strict, and the re-ask policy the
drafter uses on that model (attempts, sampling, what the first request shows: the size tier's when
max_retries is unset, agent.drafting.policy). A spec records it as ``settings_sha256``. A batch's
:func:`inputs_digest` adds the brief, the template, the prompt files and the context to it; a brief is
skipped on resume only when that digest is unchanged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any

from agent.drafting.brief import Brief
from agent.drafting.drafter import DraftOptions
from agent.io.resources import resource_dir
from agent.llm.providers import Endpoint, ModelSettings
from agent.specdoc.template import SpecTemplate


def settings_digest(settings: ModelSettings, options: DraftOptions, endpoint: Endpoint) -> str:
    """A digest of the model settings and the effective re-ask policy on ``endpoint``'s model."""
    servers = settings.base_url
    material = {
        "provider": endpoint.provider.value,
        "model": endpoint.model,
        "base_url": servers[0] if len(servers) == 1 else ("replicas" if servers else None),
        "model_path": str(settings.model_path) if settings.model_path else None,
        "seed": settings.seed,
        "keep_going": options.keep_going,
        # the temperature and --max-retries live in the policy, as the drafter applies them
        "policy": asdict(options.reask_policy(endpoint.model_size)),
    }
    if options.language:  # a language set: the same brief drafted in another one is another spec
        material["language"] = options.language
    return _sha256(material)


def prompts_digest() -> str:
    """A digest of the prompt templates and examples (a change there redrafts on resume)."""
    digest = hashlib.sha256()
    root = resource_dir("prompts")
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def inputs_digest(
    brief: Brief, template: SpecTemplate, settings: str, prompts: str, context: str = ""
) -> str:
    """What a spec depends on: brief, template, prompts, the ``settings`` digest and the context."""
    material: dict[str, Any] = {
        "brief": brief.sha256,
        "template": template.sha256,
        "prompts": prompts,
        "settings": settings,
    }
    if context:
        material["context"] = context
    return _sha256(material)


def _sha256(material: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
