"""The AI Act questionnaire: the widget of lesson 08.

Answer plain-language questions about a use case, step by step in the order the AI Act decides
(scope, banned practices, product safety, sensitive areas, exceptions, transparency). Each
question says why it is asked and which article it comes from. The result updates with every
answer: tier, deciding articles, obligations with their dates, transparency duties and notes.
Load any use case of Isar Cycles' inventory to start from its answers.

The work happens in :func:`enterprise_ai.compliance.assess`; this module only arranges inputs.
The last step asks what the works council's rights under the German BetrVG depend on; they are
shown next to the AI Act result because they apply now, not on an AI Act date.
Not legal advice, and the widget says so.

Introduced in notebooks/08_ai_act.ipynb.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import ipywidgets as w

from enterprise_ai import compliance
from enterprise_ai.compliance import Assessment, UseCase
from enterprise_ai.widgets.base import CourseWidget

__all__ = ["QUESTIONS", "AIActQuestionnaire", "ai_act_questionnaire"]

#: Step title → (UseCase field, the question in plain business language). The explanation and
#: the article shown under each question come from the field's description in ``UseCase``.
QUESTIONS: dict[str, list[tuple[str, str]]] = {
    "1 · Is the AI Act about this at all?": [
        ("is_ai_system", "Does it learn or infer its outputs (not only fixed if-then rules)?"),
        ("military_or_defence", "Is it used only for military or defence purposes?"),
        ("research_only", "Is it used only for scientific research?"),
        ("personal_use_only", "Is it someone's purely private, non-work use?"),
    ],
    "2 · Is it a banned practice?": [
        ("manipulates_or_deceives", "Does it manipulate or deceive people in harmful ways?"),
        ("exploits_vulnerabilities", "Does it exploit age, disability or hardship?"),
        ("social_scoring", "Does it score people's behaviour and treat them worse elsewhere?"),
        ("predicts_crime_from_profile", "Does it predict crimes from a person's profile?"),
        ("scrapes_faces", "Does it collect face images from the internet or CCTV in bulk?"),
        ("emotions_at_work_or_school", "Does it read emotions of employees or students?"),
        ("medical_or_safety_reason", "... and is that for medical or safety reasons only?"),
        ("categorises_by_sensitive_traits", "Does it guess race, religion, politics, ..."),
        ("realtime_biometric_id_police", "Is it live face recognition in public for police?"),
        ("generates_intimate_imagery", "Can it make fake intimate images of real people?"),
    ],
    "3 · Is it part of a product's safety?": [
        ("annex_i_safety_component", "Is it a safety part of a machine, toy, lift, device ...?"),
        ("machinery_product", "... and is the product a machine (Machinery Regulation)?"),
    ],
    "4 · Is it used in a sensitive area?": [
        ("biometric_identification", "Does it recognise people by face, voice or fingerprint?"),
        ("biometric_categorisation", "Does it sort people into groups from biometric data?"),
        ("emotion_recognition", "Does it recognise emotions, e.g. of customers?"),
        ("critical_infrastructure", "Does it keep power, water, traffic or networks safe?"),
        ("education_admission", "Does it decide who gets into a course or training?"),
        ("education_grading", "Does it grade learners' work?"),
        ("education_level", "Does it decide which level of education someone gets?"),
        ("exam_proctoring", "Does it watch students for cheating in exams?"),
        ("recruitment", "Does it place job ads, filter or rank applicants?"),
        ("work_decisions", "Does it decide on shifts, tasks, promotion or dismissal?"),
        ("public_benefits", "Does it decide on public benefits?"),
        ("credit", "Does it score creditworthiness, or only detect fraud?"),
        ("life_health_insurance", "Does it price life or health insurance?"),
        ("emergency_triage", "Does it sort emergency calls or patients?"),
        ("law_enforcement", "Is it used by the police or prosecutors?"),
        ("migration_border", "Is it used for migration, asylum or border control?"),
        ("justice_or_elections", "Is it used by courts or to influence elections?"),
    ],
    "5 · Does an exception apply?": [
        ("narrow_procedural_task", "Does it only do a narrow procedural task?"),
        ("improves_human_result", "Does it only polish work a person has finished?"),
        ("detects_patterns_only", "Does it only flag patterns for a person to review?"),
        ("preparatory_task_only", "Does it only prepare a person's assessment?"),
        ("profiles_people", "Does it build profiles of individual people?"),
    ],
    "6 · Does it talk to people or make content?": [
        ("talks_to_people", "Do people chat or talk with it directly?"),
        ("obviously_ai", "Is it obvious to everyone that they deal with an AI?"),
        ("generates_synthetic_content", "Does it generate text, images, audio or video?"),
        ("makes_deep_fakes", "Does it make real-looking fakes of people, places or events?"),
        ("publishes_public_interest_text", "Do you publish its texts on public matters?"),
        ("human_edited", "Does a person review and take responsibility for them?"),
    ],
    "7 · Who are you in this?": [
        ("role", "Did you build it and run it under your name (provider), or use it?"),
        ("builds_on_gpai_model", "Is it built on a vendor's general-purpose model (GPT ...)?"),
        ("public_body_or_service", "Are you a public body or provide a public service?"),
    ],
    "8 · Works council (Germany, BetrVG, applies now)": [
        ("changes_how_staff_work", "Does it change how employees do their work?"),
        ("can_monitor_staff", "Could it show what an employee did, how fast or how well?"),
        ("hr_selection_or_assessment", "Does it help select applicants or assess staff?"),
    ],
}

_WIDE = w.Layout(width="100%")
_BLANK = "(a new use case)"


def _explanation(field_name: str) -> str:
    return UseCase.model_fields[field_name].description or ""


def _error_html(message: str) -> str:
    return f"<div style='color:#b00020'><b>Could not assess.</b> {html.escape(message)}</div>"


class AIActQuestionnaire(CourseWidget):
    """Questions in plain language → tier, articles, obligations (live, per answer).

    Args:
        use_case: the answers to start from; default: the first of ``examples``.
        as_of: the day for "applies?" in the obligations table; default ``date.today()``.
            Notebooks pass a fixed day so their stored output stays the same.
        examples: the use cases offered under "Load"; default: Isar Cycles' inventory.

    Attributes:
        assessment: the last :class:`~enterprise_ai.compliance.Assessment` (``None`` after an
            error).
    """

    plain_text = (
        "AI Act questionnaire (interactive in JupyterLab; the table below shows Isar Cycles' "
        "inventory, classified)"
    )

    def __init__(
        self,
        use_case: UseCase | None = None,
        *,
        as_of: date | None = None,
        examples: list[UseCase] | None = None,
    ) -> None:
        self.as_of = as_of or date.today()
        self.examples = {case.name: case for case in (examples or compliance.inventory())}
        self.assessment: Assessment | None = None
        self.controls: dict[str, w.ValueWidget] = {}
        self.load = w.Dropdown(
            options=[_BLANK, *self.examples],
            value=_BLANK,
            description="Load",
            layout=w.Layout(width="60%"),
        )
        self.name = w.Text(value="", description="Use case", layout=_WIDE)
        steps = [self._step(questions) for questions in QUESTIONS.values()]
        self.steps = w.Accordion(children=steps, titles=tuple(QUESTIONS), layout=_WIDE)
        self.result = w.HTML(layout=_WIDE)
        self.widget = w.VBox([self.load, self.name, self.steps, self.result])
        self.load.observe(self._on_load, names="value")
        self._loading = False
        if use_case is None and self.examples:
            self.load.value = next(iter(self.examples))  # loads and assesses it
        else:
            self.set_use_case(use_case or UseCase(name="(a new use case)"))
        for control in [self.name, *self.controls.values()]:
            control.observe(lambda _: self.update(), names="value")

    def _step(self, questions: list[tuple[str, str]]) -> w.VBox:
        rows = []
        for field_name, question in questions:
            annotation = UseCase.model_fields[field_name].annotation
            options = getattr(annotation, "__args__", None)
            if options:  # a Literal: several answers
                control: w.ValueWidget = w.Dropdown(
                    options=list(options), layout=w.Layout(width="40%")
                )
                label = w.HTML(f"<b>{html.escape(question)}</b>")
                rows.append(label)
                rows.append(control)
            else:
                control = w.Checkbox(description=question, indent=False, layout=_WIDE)
                rows.append(control)
            rows.append(
                w.HTML(
                    f"<div style='color:#555;font-size:85%;margin:-4px 0 6px 22px'>"
                    f"{html.escape(_explanation(field_name))}</div>"
                )
            )
            self.controls[field_name] = control
        return w.VBox(rows)

    def _on_load(self, change: dict[str, Any]) -> None:
        case = self.examples.get(change["new"])
        if case is not None:
            self.set_use_case(case)

    def set_use_case(self, case: UseCase) -> Assessment | None:
        """Fill every control with ``case``'s answers and assess it."""
        self._loading = True
        try:
            self.name.value = case.name
            for field_name, control in self.controls.items():
                control.value = getattr(case, field_name)
        finally:
            self._loading = False
        return self.update()

    @property
    def use_case(self) -> UseCase:
        """The answers currently in the widget, as a :class:`UseCase`."""
        answers = {name: control.value for name, control in self.controls.items()}
        return UseCase(name=self.name.value or "(unnamed)", **answers)

    def update(self) -> Assessment | None:
        """Assess the current answers and show the result. Never raises."""
        if self._loading:
            return self.assessment
        try:
            result = compliance.assess(self.use_case)
        except Exception as err:  # noqa: BLE001 - show it in the widget, keep the notebook alive
            self.result.value = _error_html(f"{type(err).__name__}: {err}")
            self.assessment = None
            return None
        self.assessment = result
        self.result.value = self._result_html(result)
        return result

    def _result_html(self, result: Assessment) -> str:
        colour = compliance.TIER_COLOURS[result.tier]
        table = result.obligations_table(as_of=self.as_of)
        rows = "".join(
            "<tr>"
            + "".join(f"<td style='text-align:left'>{html.escape(str(v))}</td>" for v in row)
            + "</tr>"
            for row in table.itertuples(index=False)
        )
        header = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in table)
        council = [f"{r.provision} ({r.right}): {r.reason}" for r in result.works_council]
        listed = [
            ("Transparency on top (Art. 50)", result.transparency),
            ("Works council (BetrVG, applies now)", council),
            ("Notes", result.notes),
        ]
        lists = "".join(
            f"<b>{title}</b><ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"
            for title, items in listed
            if items
        )
        return (
            "<div style='border-left:6px solid " + colour + ";padding:6px 10px'>"
            f"<div style='font-size:130%'><b>{html.escape(result.use_case.name)}</b>: "
            f"<span style='background:{colour};color:white;padding:1px 10px;border-radius:9px'>"
            f"{result.tier}</span></div>"
            f"<div>Decided by: <b>{html.escape(', '.join(result.articles))}</b></div>{lists}"
            f"<b>What you must do</b><table>{header and '<tr>' + header + '</tr>'}{rows}</table>"
            f"<small>{html.escape(compliance.NOT_LEGAL_ADVICE)}</small></div>"
        )


def ai_act_questionnaire(**kwargs: Any) -> AIActQuestionnaire:
    """Create an :class:`AIActQuestionnaire` (it assesses its starting use case at once)."""
    return AIActQuestionnaire(**kwargs)
