"""`datacraft review`: read generated records, accept / reject with a reason / edit; feed the reasons back."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from datacraft.cli.base import config_option, rejects_option
from datacraft.cli.llm_options import llm_config, llm_options
from datacraft.errors import ConfigError
from datacraft.generate.config import load_sections, review_config
from datacraft.io.writers import check_not_input
from datacraft.records import Record, training_view
from datacraft.review import ReviewSession, auto_review, load_for_review
from datacraft.review.pairs import write_pairs

_FIELDS = ("instruction", "input", "output")
_ACTIONS = "[a]ccept  [r]eject  [e]dit in $EDITOR  [i]nline edit  [s]kip  [q]uit"


@click.command("review")
@click.argument("path", metavar="IN")
@click.option("--feedback", required=True, metavar="FILE", help="Feedback file to append rejections and edits to.")
@click.option("-o", "--output", required=True, metavar="OUT",
              help="IN with every decision applied: rejected records removed, edits applied, the rest marked.")
@rejects_option(more="Here: the records the review rejected.")
@click.option("--sample", type=int, default=None, help="Review a random sample of this many records.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --sample.")
@click.option("--auto", is_flag=True, help="Let an LLM judge score each record against a rubric instead of you.")
@click.option("--web", is_flag=True, help="Review in the browser: serves a local page (keys a/r/e/j/k/u).")
@click.option("--host", default="127.0.0.1", show_default=True, help="--web: address to bind (any other than loopback needs the printed token).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="--web: port (0: any free one).")
@click.option("--min-score", type=click.IntRange(1, 5), default=None, help="--auto: score needed to accept (default 4).")
@click.option("--prompt", "prompt_path", default=None, metavar="FILE", help="--auto: your own judge template.")
@click.option("--pairs", "pairs", default=None, metavar="PATH",
              help="Also write a preference pair for each edit in the feedback file: the edit chosen, the original rejected.")
@config_option("YAML/JSON with llm and review sections.")
@llm_options
def command(path: str, feedback: str, output: str, rejects: str | None, sample: int | None, seed: int, auto: bool,
            web: bool, host: str, port: int, min_score: int | None, prompt_path: str | None, pairs: str | None, config_path: str | None, **llm_flags: Any) -> None:
    """Review generated records IN: accept, reject with a reason, or edit; reasons go to --feedback.

    Records not decided before are shown one at a time (or a random --sample of N). Every
    decision is saved to the feedback file at once (reasons you used before are offered as
    numbered choices); an edit keeps your corrected version and records the original as a bad
    example with the correction. OUT is all of IN with the decisions applied: rejected records
    leave it (to --rejects, with your reason), edits replace their originals, undecided records
    stay with meta.review.verdict "unreviewed". `generate --feedback` applies the same decisions
    to its output and shows only accepted or edited records as examples. With --auto, an LLM
    judge scores each record 1-5 (prompts/judge_*.j2); an unreadable verdict is retried once and
    then left undecided. With --web, review in the browser. With --pairs, every edit in the feedback
    file (this session's and earlier ones) also becomes a chosen/rejected preference pair.

    Example:

    \b
        datacraft review gen.jsonl --feedback feedback.jsonl -o reviewed.jsonl --sample 20
        datacraft review gen.jsonl --feedback feedback.jsonl -o reviewed.jsonl --web
        datacraft review gen.jsonl --feedback feedback.jsonl -o reviewed.jsonl --auto --model gpt-4o-mini
        datacraft review gen.jsonl --feedback feedback.jsonl -o reviewed.jsonl --pairs pairs.jsonl
    """
    check_not_input(output, [path, feedback])
    if rejects:
        check_not_input(rejects, [path, feedback, output])
    if pairs:
        check_not_input(pairs, [path, feedback, output, *([rejects] if rejects else [])])
    if web and auto:
        raise ConfigError("--web and --auto are two ways to review; choose one")
    if web:
        _serve(path, output, feedback, rejects, sample, seed, host, port)
        _pairs(feedback, pairs)
        return
    if not auto and (min_score is not None or prompt_path is not None):
        raise ConfigError("--min-score and --prompt are for --auto reviews")
    if auto:
        sections = load_sections(config_path)
        where = config_path or "config"
        llm = llm_config(sections, where, llm_flags)
        config = review_config(sections, where, min_score=min_score, prompt=prompt_path)
        bar = _bar(sample)
        try:
            result = auto_review(path, output, feedback, llm=llm, config=config, sample=sample, seed=seed,
                                 rejects=rejects, progress=bar.update if bar else None)
        finally:
            if bar:
                bar.close()
        scores = ", ".join(f"{score}: {n}" for score, n in result["scores"].items()) or "none"
        skipped = f" ({result['skipped']} decided earlier, skipped)" if result["skipped"] else ""
        click.echo(f"judged {result['reviewed']} of {result['read']}{skipped}: accepted {result['accepted']}, "
                   f"rejected {result['rejected']}, undecided {result['undecided']} (scores {scores})")
        for reason, n in list(result["reasons"].items())[:8]:
            click.echo(f"  {n:>4}  {reason}")
        for example in result["undecided_examples"]:
            click.echo(f"  undecided: {example[:160]}")
        click.echo(f"wrote {result['kept']} records to {output} ({result['unreviewed']} unreviewed); "
                   f"{result['rejected']} rejections in {feedback}")
        if result["reviewed"] and result["undecided"] == result["reviewed"]:
            click.echo(f"Error: no verdict could be read; all {result['undecided']} records were left undecided "
                       "(they are in OUT, unreviewed). Check the judge model, or try --prompt", err=True)
            sys.exit(1)
        _pairs(feedback, pairs)
        return
    records, everything = load_for_review(path, sample, seed)
    session = ReviewSession(feedback)
    todo = [record for record in records if session.decided(record) is None]
    interrupted = False
    try:
        for number, record in enumerate(todo, start=1):
            if not _review_one(session, record, number, len(todo)):
                break
    except click.Abort:  # Ctrl-C or end of input: keep what was decided
        interrupted = True
    written = session.write(everything, output, rejects)
    counts = session.counts()
    earlier = f" ({len(records) - len(todo)} decided earlier)" if len(todo) < len(records) else ""
    click.echo(f"reviewed {sum(counts.values())} of {len(everything)}{earlier}: accepted {counts.get('accepted', 0)}, "
               f"edited {counts.get('edited', 0)}, rejected {counts.get('rejected', 0)}")
    click.echo(f"wrote {written['written']} records to {output} ({written['unreviewed']} unreviewed; "
               f"{written['removed']} rejected left it{f' for {rejects}' if rejects else ''}); feedback in {feedback}")
    _pairs(feedback, pairs)
    if interrupted:
        click.echo("Interrupted: the decisions so far are saved.", err=True)
        sys.exit(130)


def _pairs(feedback: str, pairs: str | None) -> None:
    """--pairs: write the feedback file's edits as preference pairs and say how many."""
    if pairs is None:
        return
    result = write_pairs(feedback, pairs)
    skipped = ", ".join(f"{n} {reason}" for reason, n in result["skipped"].items())
    click.echo(f"wrote {result['written']} preference pairs (edit chosen, original rejected) to {pairs}"
               + (f"; edits that make no pair: {skipped}" if skipped else ""))


def _serve(path: str, output: str, feedback: str, rejects: str | None, sample: int | None, seed: int,
           host: str, port: int) -> None:
    """Serve the browser review until Ctrl-C; every decision is already on disk when it returns."""
    from datacraft.review.web import WebReview, make_server

    review = WebReview(path, output, feedback, rejects, sample=sample, seed=seed, reviewer="human")
    server = make_server(review, host, port)
    click.echo(f"Reviewing {len(review.records)} records at {server.url}  (Ctrl-C to stop)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    counts = review.session.counts()
    click.echo(f"this session: accepted {counts.get('accepted', 0)}, edited {counts.get('edited', 0)}, "
               f"rejected {counts.get('rejected', 0)}; {output} and {feedback} are up to date")


def _show(record: Record, number: int, total: int) -> None:
    click.echo(click.style(f"\n[{number}/{total}] {record.get('id', '')}", bold=True))
    view = training_view(record)
    for field in _FIELDS:
        if view.get(field):
            click.echo(click.style(f"{field}:", fg="cyan") + f"\n{view[field]}")


def _review_one(session: ReviewSession, record: Record, number: int, total: int) -> bool:
    """Ask about one record; False when the reviewer quits."""
    _show(record, number, total)
    while True:
        action = click.prompt(_ACTIONS, type=click.Choice(list("aresiq")), default="a", show_choices=False)
        if action == "a":
            session.accept(record)
        elif action == "r":
            session.reject(record, _ask_reason(session.reasons))
        elif action in "ei":
            edited = _edit_in_editor(record) if action == "e" else _edit_inline(record)
            if edited is None:
                click.echo("unchanged; choose again")
                continue
            reason = click.prompt("What was wrong (optional)", default="", show_default=False)
            session.edit(record, edited, reason.strip())
        elif action == "q":
            return False
        return True


def _ask_reason(reasons: list[str]) -> str:
    """A reason typed in, or picked by number from the ones used before."""
    for index, reason in enumerate(reasons, start=1):
        click.echo(f"  {index}) {reason}")
    while True:
        hint = "Reason (number or text)" if reasons else "Reason"
        answer = click.prompt(hint).strip()
        if answer.isdigit() and reasons:
            if 1 <= int(answer) <= len(reasons):
                return reasons[int(answer) - 1]
            click.echo(f"no reason number {answer}; type 1-{len(reasons)} or a new reason")
            continue
        if answer:
            return answer


def _edit_in_editor(record: Record) -> Record | None:
    view = {k: training_view(record).get(k, "") for k in _FIELDS}
    text = json.dumps(view, ensure_ascii=False, indent=2)
    while True:
        edited = click.edit(text, extension=".json")
        if edited is None or edited.strip() == text.strip():
            return None
        try:
            value = json.loads(edited)
        except json.JSONDecodeError as exc:
            click.echo(f"not valid JSON ({exc.msg} at line {exc.lineno}); edit again")
            text = edited
            continue
        if isinstance(value, dict) and isinstance(value.get("instruction"), str) and isinstance(value.get("output"), str):
            return {k: str(value.get(k) or "") for k in _FIELDS}
        click.echo('the edit must keep "instruction" and "output" as strings; edit again')
        text = edited


def _edit_inline(record: Record) -> Record | None:
    view = training_view(record)
    edited = {field: click.prompt(field, default=view.get(field, ""), show_default=False) for field in _FIELDS}
    if all(edited[f] == view.get(f, "") for f in _FIELDS):
        return None
    return edited


class _TqdmCounter:
    def __init__(self, total: int | None):
        from tqdm import tqdm

        self._bar = tqdm(total=total, unit="rec", desc="judged", file=sys.stderr)

    def update(self) -> None:
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


def _bar(total: int | None) -> _TqdmCounter | None:
    return _TqdmCounter(total) if sys.stderr.isatty() else None
