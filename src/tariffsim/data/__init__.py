"""Data layer: DuckDB catalog over bundled Parquet, world loaders, user-data readers."""

from .catalog import catalog, dataset_names, info, list_datasets, manifest, query, read_table, refresh, user_data_dir
from .worlds import load_world, read_world_files

__all__ = [
    "catalog", "query", "dataset_names", "info", "list_datasets", "manifest", "read_table", "refresh", "user_data_dir",
    "load_world", "read_world_files",
]
