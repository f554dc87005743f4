"""The package's version, in a module of its own (imported by the pipeline's meta without the
package's API)."""

__version__ = "0.1.0"  # as pyproject.toml's [project] version (a test checks they agree)
