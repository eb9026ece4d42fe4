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
    "export_onnx": "layered.train.saving.graph_export",
    "export_program": "layered.train.saving.graph_export",
    "load_program": "layered.train.saving.graph_export",
    "onnx_session": "layered.train.saving.graph_export",
    "read_sidecar": "layered.train.saving.graph_export",
    "sidecar_file": "layered.train.saving.graph_export",
    "PerInput": "layered.train.saving.serving",
    "ServingGraph": "layered.train.saving.serving",
    "ServingSpec": "layered.train.saving.serving",
    "decoding_rule": "layered.train.saving.serving",
    "pipeline_spec": "layered.train.saving.serving",
    "raw_batch": "layered.train.saving.serving",
    "serving_graph": "layered.train.saving.serving",
    "load_weights": "layered.train.saving.state_file",
    "read_state": "layered.train.saving.state_file",
    "write_state": "layered.train.saving.state_file",
}

__all__ = list(_WHERE)
__getattr__, __dir__ = lazy_face(__name__, _WHERE)
