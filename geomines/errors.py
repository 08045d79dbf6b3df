"""Exceptions and warnings raised by geomines.

Every error is a :class:`GeominesError` and also a builtin exception, so callers
can catch either. Messages say what was expected, what arrived and how to fix it.
"""

from __future__ import annotations


class GeominesError(Exception):
    """Base class for all geomines errors."""


class InputError(GeominesError, ValueError):
    """An input file or argument cannot be used as given."""


class CRSError(GeominesError, ValueError):
    """A coordinate reference system is missing, wrong or incompatible."""


class InvalidGeometryError(GeominesError, ValueError):
    """A geometry is invalid and repairs were not allowed (``strict=True``)."""


class NoOverlapError(GeominesError, ValueError):
    """Hazards and population raster do not overlap at all."""


class RasterError(GeominesError, ValueError):
    """A population raster cannot be used as given."""


class OutputError(GeominesError, OSError):
    """Outputs cannot be written where asked."""


class MissingDependencyError(GeominesError, ImportError):
    """An optional dependency is needed for this feature."""


class GeominesWarning(UserWarning):
    """Base class for geomines warnings."""


class NodataWarning(GeominesWarning):
    """Nodata is undeclared or suspicious in a population raster."""


class RepairWarning(GeominesWarning):
    """Input geometries or values were repaired; the load report lists them."""


class ReprojectionWarning(GeominesWarning):
    """Vector data were moved into another CRS."""


class LoadWarning(GeominesWarning):
    """A hazard file was read with a note the user should see (encoding fallback, legacy
    ``crs`` member, Z/M dropped, repeated ids) or with rows excluded or special; the
    message names the rows, and ``summary.json`` lists them.
    """


class CoverageWarning(GeominesWarning):
    """Counted hazards lie wholly outside the population raster; the message names them."""
