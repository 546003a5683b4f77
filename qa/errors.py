"""The named errors of the qa package; the edges (CLI, HTTP) translate them."""

MAX_QUESTION_CHARS = 1000


class BadQuestion(ValueError):
    """The question is empty, too long or not text."""


def check_question(question: object) -> str:
    """Return the question stripped, or raise BadQuestion saying what is wrong with it."""
    if not isinstance(question, str):
        raise BadQuestion("the question must be a string")
    question = " ".join(question.split())
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
