"""Errors the course raises on purpose, each with a cause and a fix in one line.

A learner who sees one of these should know what to do next without asking the trainer.
The tree::

    CourseError
    ├── ConfigError
    │   ├── UnknownBackendError      COURSE_BACKEND has a value the course does not know
    │   └── MissingSettingError      a backend needs a variable that is not set (names it)
    ├── ModelFileMissingError        the local model file is not installed
    ├── EndpointUnreachableError     nothing answers at the configured URL (names it)
    ├── UnexpectedReplyError         something answers, but not like the OpenAI API
    └── PortInUseError               `course serve` cannot bind its port

Introduced in notebooks/00_setup.ipynb.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "CourseError",
    "EndpointUnreachableError",
    "MissingSettingError",
    "ModelFileMissingError",
    "PortInUseError",
    "UnexpectedReplyError",
    "UnknownBackendError",
]


class CourseError(Exception):
    """Base class: something the learner can fix, explained in the message."""


class ConfigError(CourseError):
    """The settings (environment variables or `.env`) do not describe a usable backend."""


class UnknownBackendError(ConfigError):
    """COURSE_BACKEND names a backend the course does not know."""


class MissingSettingError(ConfigError):
    """A backend needs a variable (an API key, an endpoint) that is not set."""


class ModelFileMissingError(CourseError):
    """The local backend cannot find the SmolLM2 model file."""


class EndpointUnreachableError(CourseError):
    """Nothing answers at the configured endpoint URL."""


class UnexpectedReplyError(CourseError):
    """The endpoint answered, but with something other than an OpenAI API reply (a web page)."""


class PortInUseError(CourseError):
    """The port `course serve` should listen on is taken."""
