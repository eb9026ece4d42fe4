"""Saving: learner export and load, resumable checkpoints."""

from layered.core.lazy import lazy_face

# each module's public names, imported from it on first use
_NAMES = """
checkpoint: CheckpointCallback ResumeCallback load_checkpoint rng_states set_rng_states
export: export_learner load_learner
spec: from_spec to_spec
"""

_PUBLIC, __getattr__, __dir__ = lazy_face(__name__, _NAMES)
__all__ = _PUBLIC
