"""`specc build`: the pipeline from a spec file to a trained, exported and verified model."""

from .errors import BuildError
from .progress import Progress
from .runner import BuildResult, build

__all__ = ["BuildError", "BuildResult", "Progress", "build"]
