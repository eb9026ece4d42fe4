"""layered-tabular: TabularPandas, procs and tabular models."""

from layered.core.lazy import lazy_face

__version__ = "0.1.0"

_WHERE = {
    "TabDataLoader": "layered.tabular.dataloaders",
    "TabularDataLoaders": "layered.tabular.dataloaders",
    "add_datepart": "layered.tabular.dates",
    "add_elapsed_times": "layered.tabular.dates",
    "make_date": "layered.tabular.dates",
    "category_codes": "layered.tabular.dtypes",
    "category_levels": "layered.tabular.dtypes",
    "cont_cat_split": "layered.tabular.dtypes",
    "df_shrink": "layered.tabular.dtypes",
    "df_shrink_dtypes": "layered.tabular.dtypes",
    "smallest_int": "layered.tabular.dtypes",
    "TabularError": "layered.tabular.errors",
    "tabular_learner": "layered.tabular.learner",
    "TabularModel": "layered.tabular.model",
    "emb_sz_rule": "layered.tabular.model",
    "get_emb_sz": "layered.tabular.model",
    "tabular_config": "layered.tabular.model",
    "Categorify": "layered.tabular.procs",
    "FillMissing": "layered.tabular.procs",
    "Normalize": "layered.tabular.procs",
    "TabularServing": "layered.tabular.serving",
    "tabular_serving_spec": "layered.tabular.serving",
    "TabularPandas": "layered.tabular.tabular_pandas",
    "CategorizeTarget": "layered.tabular.targets",
    "RegressionTarget": "layered.tabular.targets",
    "target_proc": "layered.tabular.targets",
}

__all__ = ["__version__", *_WHERE]
__getattr__, __dir__ = lazy_face(__name__, _WHERE)
