"""The named errors of the qa package; the edges (CLI, HTTP) translate them."""

MAX_QUESTION_CHARS = 1000


class BadQuestion(ValueError):
    """The question is empty, too long or not text."""


def check_text(text: str, what: str) -> str:
    """Return text if it is valid Unicode; raise BadQuestion naming a lone surrogate in it.

    JSON may escape half of a surrogate pair ("\\ud800") and a command line may carry bytes
    that are not UTF-8; neither is text, and the tokenizers raise on them.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise BadQuestion(
            f"{what} is not valid Unicode text (a lone surrogate at character {err.start})"
        ) from None
    return text


def check_question(question: object) -> str:
    """Return the question stripped, or raise BadQuestion saying what is wrong with it."""
    if not isinstance(question, str):
        raise BadQuestion("the question must be a string")
    question = " ".join(check_text(question, "the question").split())
    if not question:
        raise BadQuestion("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise BadQuestion(
            f"the question is {len(question):,} characters long; "
            f"the limit is {MAX_QUESTION_CHARS:,}"
        )
    return question


class ModelMissing(RuntimeError):
    """A model the pipeline was asked to use is not installed."""
