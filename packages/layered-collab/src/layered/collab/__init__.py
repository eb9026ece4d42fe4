"""layered-collab: collaborative filtering models and learners."""

from layered.core.lazy import lazy_face

__version__ = "0.1.0"

# each module's public names, imported from it on first use
_NAMES = """
analysis: PCA factor_pca pca subspace_r2
dataloaders: CollabDataLoader CollabDataLoaders PartialCollabDataLoader TabularCollab WeightedCollabDataLoader
errors: CollabError
learner: collab_learner
models: EmbeddingDotBias EmbeddingNN
synthetic: SyntheticRatings synthetic_ratings
"""

_PUBLIC, __getattr__, __dir__ = lazy_face(__name__, _NAMES)
__all__ = ["__version__", *_PUBLIC]
