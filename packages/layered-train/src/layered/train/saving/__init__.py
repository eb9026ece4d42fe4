"""Saving: learner export and load, resumable checkpoints."""

from layered.core.lazy import lazy_face

# each module's public names, imported from it on first use
_NAMES = """
artifact: ArtifactError artifact_bytes parse_artifact read_artifact write_artifact
checkpoint: CheckpointCallback ResumeCallback load_checkpoint rng_states set_rng_states
export: export_learner read_learner
graph_export: export_onnx export_program load_program onnx_session read_sidecar sidecar_file
serving: PerInput ServingGraph ServingSpec decoding_rule pipeline_spec raw_batch serving_graph
state_file: load_weights read_state write_state
"""

_PUBLIC, __getattr__, __dir__ = lazy_face(__name__, _NAMES)
__all__ = _PUBLIC
