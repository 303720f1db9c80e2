"""Exceptions raised by the paperdigest core.

Every error the pipeline names derives from ``DigestError``. Adapters raise these
``from`` the library error that caused them, so callers never catch a third-party
exception type.
"""


class DigestError(Exception):
    """Base class of every error raised by paperdigest."""


class ConfigError(DigestError):
    """A setting or a config file is missing or invalid."""


class SourceError(DigestError):
    """A source could not be read: malformed feed, error feed, HTML page, HTTP failure."""


class UnknownInputError(SourceError):
    """An input file is none of the formats that paperdigest reads."""


class QuietDay(DigestError):
    """The sources answered well-formed but with no new papers (weekend, holiday)."""


class LLMError(DigestError):
    """A model call failed or returned something that cannot be used as a summary."""


class LLMFatalError(LLMError):
    """A model error that retrying cannot fix: authentication, quota, unknown model."""


class StorageError(DigestError):
    """A record could not be read or written."""


class PublishError(DigestError):
    """The digest could not be rendered or written."""
