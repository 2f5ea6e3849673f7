"""botocore's data files, read once per process: the service models every client authdemo
builds sends with, their shapes (what AWS's API has, read at run time instead of copied), and
the partition data regions.py checks names against."""

from __future__ import annotations

import functools
import os
from typing import Any

_LOADERS: dict[str, Any] = {}  # botocore's JSON model loader per AWS_DATA_PATH: models parsed once


def shared_loader() -> Any:
    """botocore's model loader for this process: every session authdemo builds, and
    regions.py's partition data, read models through it (each parsed once). It searches
    AWS_DATA_PATH first, as botocore's own sessions (and the aws CLI) do: models added or
    amended there are the ones authdemo's clients send with."""
    data_path = os.environ.get("AWS_DATA_PATH", "")
    loader = _LOADERS.get(data_path)
    if loader is None:
        extra = [os.path.expanduser(os.path.expandvars(p)) for p in data_path.split(os.pathsep) if p]
        loader = _LOADERS[data_path] = _loader_class()(extra_search_paths=extra)
    return loader


def _loader_class() -> Any:
    import botocore.loaders

    class Loader(botocore.loaders.Loader):
        """botocore's model loader, minus its census of every service's folder before the first
        model of each kind (one listdir per service, ~420 of them: 40-60 ms of a command's start,
        on the way to its first AWS call). A name is known when a folder has it; one with no
        folder still gets botocore's UnknownServiceError."""

        @botocore.loaders.instance_cache
        def list_available_services(self, type_name: str) -> list[str]:
            services: set[str] = set()
            for location in self._potential_locations():
                with os.scandir(location) as entries:
                    services.update(entry.name for entry in entries if entry.is_dir())
            return sorted(services)

    return Loader


@functools.lru_cache(maxsize=256)
def shape(model: Any, operation: str, path: tuple[str, ...], output: bool) -> Any:
    """The shape at `path` (member names) of `operation`'s input (or output) in `model`."""
    op = model.operation_model(operation)
    shape = op.output_shape if output else op.input_shape
    for name in path:
        shape = shape.members[name]
    return shape
