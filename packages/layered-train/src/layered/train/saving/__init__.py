"""Saving: learner export and load, resumable checkpoints."""

from layered.core.lazy import lazy_face

_WHERE = {
    "ArtifactError": "layered.train.saving.artifact",
    "artifact_bytes": "layered.train.saving.artifact",
    "parse_artifact": "layered.train.saving.artifact",
    "read_artifact": "layered.train.saving.artifact",
    "write_artifact": "layered.train.saving.artifact",
    "CheckpointCallback": "layered.train.saving.checkpoint",
    "ResumeCallback": "layered.train.saving.checkpoint",
    "load_checkpoint": "layered.train.saving.checkpoint",
    "rng_states": "layered.train.saving.checkpoint",
    "set_rng_states": "layered.train.saving.checkpoint",
    "export_learner": "layered.train.saving.export",
    "load_learner": "layered.train.saving.export",
    "load_weights": "layered.train.saving.state_file",
    "read_state": "layered.train.saving.state_file",
    "write_state": "layered.train.saving.state_file",
}

__all__ = list(_WHERE)
__getattr__, __dir__ = lazy_face(__name__, _WHERE)
