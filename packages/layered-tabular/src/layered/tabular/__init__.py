"""layered-tabular: TabularPandas, procs and tabular models."""

from layered.core.lazy import lazy_face

__version__ = "0.1.0"

# each module's public names, imported from it on first use
_NAMES = """
dates: add_datepart add_elapsed_times make_date
dtypes: category_codes category_levels cont_cat_split df_shrink df_shrink_dtypes smallest_int
errors: TabularError
learner: tabular_learner
model: TabularModel emb_sz_rule get_emb_sz tabular_config
procs: Categorify FillMissing TabularNormalize
sampling: PartialTabDataLoader WeightedTabDataLoader
serving: TabularServing tabular_serving_spec
tab_loader: TabDataLoader
table: ProcessedTable
tabular_pandas: TabularDataLoaders TabularPandas
targets: CategorizeTarget RegressionTarget target_proc
"""

_PUBLIC, __getattr__, __dir__ = lazy_face(__name__, _NAMES)
__all__ = ["__version__", *_PUBLIC]
