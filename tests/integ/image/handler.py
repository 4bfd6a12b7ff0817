"""The integration tests' function: answers with a fixed text, so an invoke proves the pull."""

ANSWER = "pulled from a CrossAccountImageRepo"


def handler(event: object, context: object) -> str:
    return ANSWER
