"""layered-collab: collaborative filtering models and learners."""

from layered.core.lazy import lazy_face

__version__ = "0.1.0"

_WHERE = {
    "PCA": "layered.collab.analysis",
    "factor_pca": "layered.collab.analysis",
    "pca": "layered.collab.analysis",
    "subspace_r2": "layered.collab.analysis",
    "CollabDataLoader": "layered.collab.dataloaders",
    "CollabDataLoaders": "layered.collab.dataloaders",
    "TabularCollab": "layered.collab.dataloaders",
    "CollabError": "layered.collab.errors",
    "collab_learner": "layered.collab.learner",
    "EmbeddingDotBias": "layered.collab.models",
    "EmbeddingNN": "layered.collab.models",
    "SyntheticRatings": "layered.collab.synthetic",
    "synthetic_ratings": "layered.collab.synthetic",
}

__all__ = ["__version__", *_WHERE]
__getattr__, __dir__ = lazy_face(__name__, _WHERE)
