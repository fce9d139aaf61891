"""`specc lint`: rules of thumb about a valid spec, each with an id, a severity, the spec field
it is about and a hint.

    run(loaded, graph, data=False, ignore=()) -> list[Diagnostic]

Rules live in small modules by theme: the network (`rules_model`, SPC1xx), the training recipe
(`rules_recipe`, SPC2xx), facts of the real data (`rules_data`, SPC3xx, only with `data=True`)
and transfer learning (`rules_transfer`, SPC4xx). Without data rules nothing heavy is imported
(no numpy, no TensorFlow): `specc validate` runs the lint too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from specc.spec.errors import Location

from . import rules_model, rules_recipe, rules_transfer
from .base import RULES, SEVERITIES, Diagnostic, Finding, LintContext, Rule
from .samples import example_count

if TYPE_CHECKING:
    from specc.ir import Graph
    from specc.spec import LoadedSpec

__all__ = ["RULES", "SEVERITIES", "Diagnostic", "Rule", "run", "unknown_rules"]

_MODULES = (rules_model, rules_recipe, rules_transfer)  # registered on import


def _load_data_rules() -> None:
    from . import rules_data  # noqa: F401  (registers SPC3xx; imports numpy when they run)


def unknown_rules(ids: Iterable[str]) -> list[str]:
    """The ids in `ids` that name no rule (data rules included)."""
    _load_data_rules()
    return [i for i in ids if i not in RULES]


def _findings(rule: Rule, ctx: LintContext) -> list[Finding]:
    """The rule's findings; a rule that fails is one error finding, never a crash of the
    command or the build that runs the lint."""
    try:
        return list(rule.check(ctx))
    except Exception as exc:
        from specc.excinfo import reason

        return [
            Finding(
                (),
                f"the rule could not run: {reason(exc)}",
                "a bug in specc: please report it with the spec; `--ignore` skips the rule",
                severity="error",
            )
        ]


def run(
    loaded: LoadedSpec, graph: Graph, *, data: bool = False, ignore: Iterable[str] = ()
) -> list[Diagnostic]:
    """Every rule's diagnostics for a validated spec, located in its file, in file order.

    `data=True` also runs the rules that load the real data (with the generated data code).
    `ignore` lists rule ids to skip.
    """
    skipped = set(ignore)
    ctx = LintContext(loaded, graph, example_count(loaded.spec, loaded.base_dir))
    if data:
        _load_data_rules()
        from .rules_data import load_facts

        ctx.data = load_facts(ctx)
    found: list[Diagnostic] = []
    for rule in RULES.values():
        if rule.id in skipped or (rule.data and not data):
            continue
        for finding in _findings(rule, ctx):
            _, line, col, written = loaded.source.resolve(finding.path)
            message = finding.message
            if not written:  # located at the nearest section the file has
                message += " (a default: the field is not in the spec)"
            found.append(
                Diagnostic(
                    rule.id,
                    finding.severity or rule.severity,
                    finding.path,
                    message,
                    finding.hint,
                    Location(loaded.source.file, line, col),
                )
            )
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(
        found,
        key=lambda d: (
            (d.location.line, d.location.col) if d.location else (0, 0),
            order[d.severity],
            d.rule,
        ),
    )
