"""EU AI Act: classify a use case, keep the dates as data, and list what GDPR and the BetrVG add.

Four jobs, all plain Python without a model:

* :class:`UseCase` is the questionnaire: one field per question, each naming the provision of
  Regulation (EU) 2024/1689 (the AI Act) it stems from. :func:`assess` walks the decision order
  (scope → Art. 5 → Art. 6(1)/Annex I → Annex III with the Art. 6(3) derogation → Art. 50 on
  top → minimal) and returns an :class:`Assessment`: tier, deciding provisions, obligations
  with their dates, transparency duties and notes.
* :data:`TIMELINE` is the one table of dates, as the law stands since the Digital Omnibus on AI
  (adopted June 2026): one "applies from" date per row, the 2024 date kept as history, each
  row citing the act that sets it (:func:`omnibus_citation` says what the course could not
  confirm). :func:`timeline` shows it for a given day (``as_of``), so stored notebook outputs
  do not change when the calendar does. :data:`GPAI_CODE_OF_PRACTICE` explains the model
  vendors' code; :data:`MACHINERY` what the Omnibus changed for machines.
* :func:`works_council_rights` and :func:`co_determination` list what the German Works
  Constitution Act (BetrVG §87(1) Nr. 6, §90, §94/§95) gives the works council for a use case:
  rights that apply now, whatever the AI Act's dates.
* :func:`inventory` is Isar Cycles' list of AI use cases, classified with :func:`classify`;
  :data:`GDPR_POINTS` is what data-protection law adds for an LLM support system.

The automated checks on the support bot (``check_bot``, ``SupportBot``) and its system card
(``system_card``) live in :mod:`enterprise_ai.compliance_bot`, which builds on this module (a
system card states the bot's :class:`Assessment`); this module knows nothing about the bot.

Facts come from the legal text (https://eur-lex.europa.eu/eli/reg/2024/1689/oj, the BetrVG at
https://www.gesetze-im-internet.de/betrvg/) and the institutions' own releases, cited by article;
the law was last checked on 4 Dec 2026. This module is a teaching aid for a first triage of use
cases: **it is not legal advice**; a lawyer or your compliance function decides the real case.

Example:
    >>> bot = UseCase(name="Website support chatbot", role="provider", talks_to_people=True)
    >>> result = assess(bot)
    >>> result.tier, result.articles
    ('limited', ['Art. 50(1)'])

Introduced in notebooks/08_ai_act.ipynb.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import pandas as pd
from matplotlib.ticker import MaxNLocator
from pydantic import BaseModel, ConfigDict, Field

from enterprise_ai.charts import ChartFigure

__all__ = [
    "AI_ACT_URL",
    "BETRVG_URL",
    "GPAI_CODE_OF_PRACTICE",
    "MACHINERY",
    "OMNIBUS_PROCEDURE_URL",
    "WORKS_AGREEMENT_TOPICS",
    "WorksCouncilRight",
    "co_determination",
    "gpai_code_of_practice",
    "omnibus_citation",
    "works_agreement_topics",
    "works_council_rights",
    "ANNEX_III",
    "ART_5",
    "GDPR_POINTS",
    "NOT_LEGAL_ADVICE",
    "AI_ACT",
    "OMNIBUS",
    "OMNIBUS_ACT",
    "OMNIBUS_HISTORY",
    "TIER_COLOURS",
    "TIER_ORDER",
    "TIMELINE",
    "Assessment",
    "Milestone",
    "Obligation",
    "Tier",
    "UseCase",
    "assess",
    "classify",
    "gdpr_table",
    "inventory",
    "milestone",
    "plot_inventory",
    "plot_timeline",
    "timeline",
]

#: Shown wherever a result could be mistaken for legal advice (here, the bot's checks, the
#: system card, the questionnaire widget).
NOT_LEGAL_ADVICE = (
    "A first triage for teaching, not legal advice: have your lawyer or compliance function "
    "confirm the result."
)
AI_ACT_URL = "https://eur-lex.europa.eu/eli/reg/2024/1689/oj"
#: The adopted amending act. Its number in the Official Journal is not given here: the course
#: could not confirm it from the institutions' own releases (see OMNIBUS_OJ_REFERENCE).
OMNIBUS_ACT = (
    "Digital Omnibus on AI: Regulation of the European Parliament and of the Council amending "
    "Regulations (EU) 2024/1689, (EU) 2018/1139 and (EU) 2023/1230, procedure 2025/0359(COD)"
)
#: The European Parliament's file on the procedure (stages, texts adopted, final act).
OMNIBUS_PROCEDURE_URL = (
    "https://oeil.europarl.europa.eu/oeil/en/procedure-file?reference=2025/0359(COD)"
)
#: ``None`` while the course has not confirmed the act's OJ number from EUR-Lex or an
#: institution's release; the timeline then says so instead of guessing.
OMNIBUS_OJ_REFERENCE: str | None = None
AI_ACT = "AI Act (Regulation (EU) 2024/1689)"
OMNIBUS = "Digital Omnibus on AI (adopted 2026)"

Tier = Literal["out of scope", "prohibited", "high", "limited", "minimal"]

# --------------------------------------------------------------------------------------------
# The timeline: the law as it stands, with the original dates kept as history
# --------------------------------------------------------------------------------------------


def omnibus_citation() -> str:
    """How the course cites the Digital Omnibus: the adopted act, and its OJ reference or why not.

    Example:
        >>> "2025/0359(COD)" in omnibus_citation()
        True
    """
    oj = OMNIBUS_OJ_REFERENCE or (
        "OJ reference not confirmed by the course: look the act up on EUR-Lex by its procedure "
        "number"
    )
    return f"{OMNIBUS_ACT}; adopted by Parliament 16 Jun 2026 and Council 29 Jun 2026; {oj}"


@dataclass(frozen=True)
class Milestone:
    """One row of :data:`TIMELINE`: a date from which something applies, as the law stands.

    Attributes:
        key: a short id that obligations refer to, e.g. ``"high_risk_annex_iii"``.
        milestone: what applies from that day, in plain words.
        applies_from: the day, as the law stands (the Digital Omnibus included).
        articles: the provisions concerned.
        set_by: the act that sets this date: :data:`AI_ACT` or :data:`OMNIBUS`.
        originally: the date in the AI Act as published in 2024, if the Omnibus moved it;
            ``None`` if the date never moved or the row is new.
        new: ``True`` if the Omnibus added this row (it was in neither the 2024 text nor, where
            the note says so, the Commission's 2025 proposal).
        note: what changed, in one sentence.
    """

    key: str
    milestone: str
    applies_from: date
    articles: str
    set_by: str
    originally: date | None = None
    new: bool = False
    note: str = ""

    @property
    def source(self) -> str:
        """The citation of the act that sets the date (the adopted act, never the proposal)."""
        return AI_ACT_URL if self.set_by == AI_ACT else omnibus_citation()

    @property
    def history(self) -> str:
        """``"unchanged"``, ``"moved from <date>"`` or ``"new (Digital Omnibus)"``."""
        if self.new:
            return "new (Digital Omnibus)"
        if self.originally is not None:
            return f"moved from {self.originally.isoformat()}"
        return "unchanged"


#: Every date of the module, once, as the law stands after the Digital Omnibus on AI (published
#: in the OJ in July 2026, in force three days later). Obligations point to rows by ``key``;
#: ``originally`` keeps the 2024 date.
TIMELINE: tuple[Milestone, ...] = (
    Milestone(
        "entry_into_force",
        "AI Act enters into force",
        date(2024, 8, 1),
        "Art. 113",
        AI_ACT,
    ),
    Milestone(
        "prohibitions",
        "Chapters I and II: definitions, AI literacy (Art. 4), prohibited practices (Art. 5)",
        date(2025, 2, 2),
        "Art. 113(a); Art. 4; Art. 5",
        AI_ACT,
        note="Art. 4 was reworded by the Digital Omnibus: a duty to promote AI literacy with "
        "proportionate measures",
    ),
    Milestone(
        "gpai",
        "General-purpose AI model duties, governance, penalties",
        date(2025, 8, 2),
        "Art. 113(b); Chapter V (Art. 51-56); Art. 99, 101",
        AI_ACT,
    ),
    Milestone(
        "transparency",
        "Transparency duties: chatbots, synthetic content, deep fakes",
        date(2026, 8, 2),
        "Art. 113; Art. 50",
        AI_ACT,
        note="not moved by the Digital Omnibus",
    ),
    Milestone(
        "marking_grace",
        "Machine-readable marking also for generative systems placed on the market before "
        "2 Aug 2026 (end of their grace period)",
        date(2026, 12, 2),
        "Art. 50(2); Art. 111 (transitional rule added by the Omnibus)",
        OMNIBUS,
        new=True,
        note="grace period of 3 months set in the final negotiations (the 2025 proposal had "
        "proposed a longer one)",
    ),
    Milestone(
        "intimate_imagery_ban",
        "New ban: AI systems generating non-consensual intimate imagery or child sexual abuse "
        "material",
        date(2026, 12, 2),
        "Art. 5 (new prohibition)",
        OMNIBUS,
        new=True,
        note="added in the final negotiations; not in the 2024 text nor in the 2025 proposal",
    ),
    Milestone(
        "sandboxes",
        "At least one national AI regulatory sandbox per Member State",
        date(2027, 8, 2),
        "Art. 57(1)",
        OMNIBUS,
        originally=date(2026, 8, 2),
    ),
    Milestone(
        "gpai_legacy",
        "GPAI models placed on the market before 2 Aug 2025 must comply",
        date(2027, 8, 2),
        "Art. 111(3)",
        AI_ACT,
    ),
    Milestone(
        "high_risk_annex_iii",
        "High-risk duties for Annex III systems (incl. deployer duties, FRIA)",
        date(2027, 12, 2),
        "Art. 113 as amended; Art. 6(2), Annex III; Art. 26, 27",
        OMNIBUS,
        originally=date(2026, 8, 2),
    ),
    Milestone(
        "high_risk_annex_i",
        "High-risk duties for safety components of Annex I products",
        date(2028, 8, 2),
        "Art. 113 as amended; Art. 6(1), Annex I",
        OMNIBUS,
        originally=date(2027, 8, 2),
        note="products under the Machinery Regulation (EU) 2023/1230 are exempted from direct "
        "application of the AI Act (see MACHINERY)",
    ),
)

#: How the Digital Omnibus became law: (when, what happened, source). ``when`` is an ISO date,
#: or a month where the course could not confirm the day.
OMNIBUS_HISTORY: tuple[tuple[str, str, str], ...] = (
    ("2025-11-19", "Commission proposal", "COM(2025) 836"),
    ("2026-05-07", "Political agreement of Parliament and Council", "Council of the EU, release"),
    ("2026-06-16", "Adopted by the European Parliament", OMNIBUS_PROCEDURE_URL),
    ("2026-06-29", "Final approval by the Council", "Council of the EU, release of 29 Jun 2026"),
    (
        "2026-07",
        "Published in the Official Journal; in force on the third day after publication",
        OMNIBUS_OJ_REFERENCE or "OJ reference and day not confirmed by the course",
    ),
)


def milestone(key: str) -> Milestone:
    """The :data:`TIMELINE` row for ``key``.

    Raises:
        KeyError: no row has this key (the message lists the known keys).

    Example:
        >>> milestone("high_risk_annex_iii").history
        'moved from 2026-08-02'
    """
    for row in TIMELINE:
        if row.key == key:
            return row
    known = sorted(m.key for m in TIMELINE)
    raise KeyError(f"No timeline row with key {key!r}. Known keys: {known}.")


def timeline(*, as_of: date | None = None) -> pd.DataFrame:
    """:data:`TIMELINE` as a table, sorted by date, with "applies on ``as_of``?".

    One "applies from" column: the law as it stands. ``history`` keeps the original 2024 date
    of every row the Digital Omnibus moved, and marks the rows it added.

    Args:
        as_of: the day to judge "already applies?" against; default ``date.today()``. Pass a
            fixed day in notebooks, so their stored outputs stay reproducible.

    Returns:
        Columns ``applies_from, milestone, articles, set_by, history, reached, key, note,
        source``; ``reached`` is ``True`` if ``applies_from <= as_of``.

    Example:
        >>> table = timeline(as_of=date(2025, 3, 1))
        >>> table.loc[table["key"] == "prohibitions", "reached"].tolist()
        [True]
    """
    day = as_of or date.today()
    rows = [
        {
            "applies_from": m.applies_from,
            "milestone": m.milestone,
            "articles": m.articles,
            "set_by": m.set_by,
            "history": m.history,
            "reached": m.applies_from <= day,
            "key": m.key,
            "note": m.note,
            "source": m.source,
        }
        for m in TIMELINE
    ]
    table = pd.DataFrame(rows)
    return table.sort_values("applies_from", kind="stable").reset_index(drop=True)


#: The rows of :func:`plot_timeline`: timeline key → label.
_PLOTTED_DUTIES = {
    "prohibitions": "Art. 5 bans, Art. 4",
    "gpai": "GPAI model duties",
    "transparency": "Art. 50 transparency",
    "intimate_imagery_ban": "new Art. 5 ban",
    "high_risk_annex_iii": "Annex III high-risk",
    "high_risk_annex_i": "Annex I products",
}


def plot_timeline(*, as_of: date | None = None) -> ChartFigure:
    """When each group of duties applies as the law stands (filled), moved from (hollow).

    Args:
        as_of: the day drawn as a dashed line; default ``date.today()``.

    Returns:
        A matplotlib figure that shows itself in a notebook (``.savefig(path)`` saves it).

    Introduced in notebooks/08_ai_act.ipynb.
    """
    day = as_of or date.today()
    figure = ChartFigure(figsize=(11, 4.8), dpi=80)
    ax = figure.add_subplot()
    colour = "#1b6ca8"
    for y, key in enumerate(_PLOTTED_DUTIES):
        row = milestone(key)
        label = "applies from (law today)" if y == 0 else None
        ax.scatter(row.applies_from, y, marker="o", s=170, color=colour, label=label, zorder=3)
        if row.originally is not None:
            ax.annotate(
                "",
                xy=(row.applies_from, y),
                xytext=(row.originally, y),
                arrowprops={"arrowstyle": "->", "color": "#d95f02", "lw": 2},
            )
            ax.scatter(
                row.originally,
                y,
                marker="o",
                s=170,
                facecolors="none",
                edgecolors="#d95f02",
                linewidths=2,
                label="original 2024 date (history)" if key == "high_risk_annex_iii" else None,
                zorder=3,
            )
    ax.axvline(day, color="grey", linestyle="--", linewidth=2, label=f"as of {day.isoformat()}")
    ax.set_yticks(range(len(_PLOTTED_DUTIES)), list(_PLOTTED_DUTIES.values()), fontsize=14)
    ax.tick_params(axis="x", labelsize=13)
    ax.set_xlabel("date from which the duties apply", fontsize=14)
    ax.set_title("AI Act dates as the law stands, Digital Omnibus included", fontsize=16)
    ax.legend(loc="lower right", fontsize=12)
    figure.tight_layout()
    return figure


# --------------------------------------------------------------------------------------------
# The questionnaire
# --------------------------------------------------------------------------------------------

#: Art. 5(1) points, the question field that asks about each, and the practice in plain words.
ART_5: dict[str, tuple[str, str]] = {
    "a": ("manipulates_or_deceives", "subliminal, manipulative or deceptive techniques"),
    "b": ("exploits_vulnerabilities", "exploiting vulnerabilities of age, disability, situation"),
    "c": ("social_scoring", "social scoring"),
    "d": ("predicts_crime_from_profile", "predicting crimes solely from profiling or traits"),
    "e": ("scrapes_faces", "untargeted scraping of facial images"),
    "f": ("emotions_at_work_or_school", "inferring emotions at the workplace or in education"),
    "g": ("categorises_by_sensitive_traits", "biometric categorisation by sensitive traits"),
    "h": ("realtime_biometric_id_police", "real-time remote biometric identification for police"),
}

#: Annex III points this module asks about: the question field and the use in plain words.
#: Points 1(a) and 5(b) are decided by their own fields (they have exclusions).
ANNEX_III: dict[str, tuple[str, str]] = {
    "1(b)": ("biometric_categorisation", "biometric categorisation by protected attributes"),
    "1(c)": ("emotion_recognition", "emotion recognition"),
    "2": ("critical_infrastructure", "safety component of critical infrastructure"),
    "3(a)": ("education_admission", "admission to education or training"),
    "3(b)": ("education_grading", "evaluating learning outcomes"),
    "3(c)": ("education_level", "assessing the level of education a person can access"),
    "3(d)": ("exam_proctoring", "monitoring students during tests"),
    "4(a)": ("recruitment", "recruitment: job ads, filtering and evaluating candidates"),
    "4(b)": ("work_decisions", "decisions on terms, promotion, termination, tasks; monitoring"),
    "5(a)": ("public_benefits", "eligibility for public assistance benefits"),
    "5(c)": ("life_health_insurance", "risk assessment and pricing in life and health insurance"),
    "5(d)": ("emergency_triage", "emergency-call evaluation and patient triage"),
    "6": ("law_enforcement", "law enforcement"),
    "7": ("migration_border", "migration, asylum and border control"),
    "8": ("justice_or_elections", "administration of justice and democratic processes"),
}

_ART_6_3 = {
    "narrow_procedural_task": "(a) a narrow procedural task",
    "improves_human_result": "(b) improving the result of a completed human activity",
    "detects_patterns_only": "(c) detecting decision patterns without replacing human review",
    "preparatory_task_only": "(d) a preparatory task to an assessment",
}


class UseCase(BaseModel):
    """One AI use case, described by the answers to the questionnaire.

    Every field is one question; its description names the provision it stems from. All
    answers default to "no", so a use case only needs the answers that are "yes".

    Example:
        >>> UseCase(name="CV ranking", department="HR", recruitment=True).recruitment
        True
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    name: str = Field(description="What the system does, in a few words.")
    department: str = Field("", description="Who at the company uses or runs it.")
    description: str = Field("", description="One or two sentences for the inventory.")
    role: Literal["provider", "deployer"] = Field(
        "deployer",
        description=(
            "Art. 3(3)/3(4): provider if you develop the system (or have it developed) and put "
            "it into service under your own name, e.g. your own bot on a GPT API; deployer if "
            "you use someone else's system under your authority."
        ),
    )
    builds_on_gpai_model: bool = Field(
        False,
        description=(
            "Built on a general-purpose AI model of a vendor (GPT, Claude, Llama, ...). The "
            "model duties of Art. 53/55 stay with that vendor."
        ),
    )
    # Step 1: is it an AI system, and is it in scope?
    is_ai_system: bool = Field(
        True,
        description=(
            "Art. 3(1): a machine-based system that infers from its input how to generate "
            "outputs (predictions, content, recommendations, decisions); fixed rules written "
            "by people are not."
        ),
    )
    military_or_defence: bool = Field(False, description="Art. 2(3): military or defence only.")
    research_only: bool = Field(
        False, description="Art. 2(6): solely for scientific research and development."
    )
    personal_use_only: bool = Field(
        False, description="Art. 2(10): a person's purely personal, non-professional use."
    )
    # Step 2: Art. 5 prohibited practices
    manipulates_or_deceives: bool = Field(
        False, description="Art. 5(1)(a): manipulative or deceptive techniques causing harm."
    )
    exploits_vulnerabilities: bool = Field(
        False, description="Art. 5(1)(b): exploits age, disability or social/economic situation."
    )
    social_scoring: bool = Field(
        False,
        description=(
            "Art. 5(1)(c): scores people's social behaviour or traits, leading to unfair "
            "treatment elsewhere or out of proportion (public and private actors)."
        ),
    )
    predicts_crime_from_profile: bool = Field(
        False, description="Art. 5(1)(d): predicts crimes solely from profiling or traits."
    )
    scrapes_faces: bool = Field(
        False, description="Art. 5(1)(e): untargeted scraping of faces for a face database."
    )
    emotions_at_work_or_school: bool = Field(
        False,
        description=(
            "Art. 5(1)(f): infers emotions of people at the workplace or in education "
            "(e.g. call-centre agents' voices)."
        ),
    )
    medical_or_safety_reason: bool = Field(
        False,
        description=(
            "Art. 5(1)(f) exception: the emotion inference is for medical or safety reasons."
        ),
    )
    categorises_by_sensitive_traits: bool = Field(
        False,
        description=(
            "Art. 5(1)(g): biometric categorisation to infer race, political opinions, "
            "trade-union membership, religion, sex life or orientation."
        ),
    )
    realtime_biometric_id_police: bool = Field(
        False,
        description=(
            "Art. 5(1)(h): real-time remote biometric identification in public spaces for law "
            "enforcement."
        ),
    )
    generates_intimate_imagery: bool = Field(
        False,
        description=(
            "Art. 5 as amended by the Digital Omnibus (new prohibition, applies from 2 Dec 2026): "
            "generates or manipulates realistic intimate imagery of real people without their "
            "consent, or child sexual abuse material."
        ),
    )
    # Step 3: Art. 6(1) and Annex I
    annex_i_safety_component: bool = Field(
        False,
        description=(
            "Art. 6(1): a safety component of a product under Annex I law (toys, lifts, medical "
            "devices, machinery, ...) that needs a third-party conformity assessment."
        ),
    )
    machinery_product: bool = Field(
        False,
        description=(
            "The product is machinery under the Machinery Regulation (EU) 2023/1230. The "
            "Digital Omnibus exempted such products from direct application of the AI Act: an "
            "AI safety function is assessed under the Machinery Regulation instead."
        ),
    )
    # Step 4: Annex III
    biometric_identification: Literal["none", "remote identification", "1:1 verification"] = Field(
        "none",
        description=(
            "Annex III 1(a): remote biometric identification (who is this among many?) is "
            "high-risk; 1:1 verification (is this person who they claim to be?) is excluded."
        ),
    )
    biometric_categorisation: bool = Field(
        False, description="Annex III 1(b): categorises people by protected attributes."
    )
    emotion_recognition: bool = Field(
        False,
        description=(
            "Annex III 1(c): recognises emotions from biometric data such as voice or face "
            "(Art. 3(39)), e.g. of customers; at work or school it is banned (Art. 5(1)(f))."
        ),
    )
    critical_infrastructure: bool = Field(
        False,
        description="Annex III 2: safety component of digital infrastructure, traffic, utilities.",
    )
    education_admission: bool = Field(
        False, description="Annex III 3(a): decides access or admission to education/training."
    )
    education_grading: bool = Field(
        False, description="Annex III 3(b): evaluates learning outcomes."
    )
    education_level: bool = Field(
        False, description="Annex III 3(c): assesses the level of education a person gets."
    )
    exam_proctoring: bool = Field(
        False, description="Annex III 3(d): monitors students for cheating during tests."
    )
    recruitment: bool = Field(
        False,
        description=(
            "Annex III 4(a): recruitment or selection: targeted job ads, filtering or ranking "
            "applications, evaluating candidates."
        ),
    )
    work_decisions: bool = Field(
        False,
        description=(
            "Annex III 4(b): decisions on terms of work, promotion, termination; allocating "
            "tasks by behaviour or traits; monitoring and evaluating performance."
        ),
    )
    public_benefits: bool = Field(
        False, description="Annex III 5(a): eligibility for public assistance benefits."
    )
    credit: Literal["none", "credit scoring", "fraud detection"] = Field(
        "none",
        description=(
            "Annex III 5(b): creditworthiness or credit scores of natural persons are "
            "high-risk; detecting financial fraud is excluded."
        ),
    )
    life_health_insurance: bool = Field(
        False, description="Annex III 5(c): risk and pricing in life and health insurance."
    )
    emergency_triage: bool = Field(
        False, description="Annex III 5(d): evaluates emergency calls or triages patients."
    )
    law_enforcement: bool = Field(False, description="Annex III 6: used by law enforcement.")
    migration_border: bool = Field(
        False, description="Annex III 7: migration, asylum or border control."
    )
    justice_or_elections: bool = Field(
        False, description="Annex III 8: administration of justice, influencing elections."
    )
    # Art. 6(3) derogation and its profiling override
    narrow_procedural_task: bool = Field(
        False, description="Art. 6(3)(a): performs only a narrow procedural task."
    )
    improves_human_result: bool = Field(
        False, description="Art. 6(3)(b): improves the result of a completed human activity."
    )
    detects_patterns_only: bool = Field(
        False,
        description=(
            "Art. 6(3)(c): detects decision patterns or deviations, without replacing or "
            "influencing the human assessment without proper review."
        ),
    )
    preparatory_task_only: bool = Field(
        False, description="Art. 6(3)(d): a preparatory task to an assessment."
    )
    profiles_people: bool = Field(
        False,
        description=(
            "Art. 6(3), last subparagraph: profiles natural persons (GDPR Art. 4(4)); then "
            "the Annex III system is always high-risk."
        ),
    )
    # German co-determination (Betriebsverfassungsgesetz): applies now, not on AI Act dates
    changes_how_staff_work: bool = Field(
        False,
        description=(
            "§90(1) Nr. 3 BetrVG: planning it changes employees' work procedures or processes "
            "(the law names AI explicitly): inform and consult the works council in good time."
        ),
    )
    can_monitor_staff: bool = Field(
        False,
        description=(
            "§87(1) Nr. 6 BetrVG: it can record data that show an employee's behaviour or "
            "performance (who did what, how fast, how well, when). Being able to is enough; the "
            "Federal Labour Court does not ask whether monitoring is the purpose."
        ),
    )
    hr_selection_or_assessment: bool = Field(
        False,
        description=(
            "§94, §95 BetrVG: it applies general assessment principles to staff, asks standard "
            "personal questions, or applies selection guidelines for hiring, transfers or "
            "dismissals (§95(2a): also when AI draws the guidelines up)."
        ),
    )
    # Art. 27
    public_body_or_service: bool = Field(
        False,
        description="Art. 27: the deployer is a public body or provides a public service.",
    )
    # Art. 50 transparency
    talks_to_people: bool = Field(
        False, description="Art. 50(1): interacts directly with people (chat, voice, e-mail)."
    )
    obviously_ai: bool = Field(
        False,
        description=(
            "Art. 50(1): it is obvious to a reasonably well-informed person that it is an AI."
        ),
    )
    generates_synthetic_content: bool = Field(
        False, description="Art. 50(2): generates synthetic audio, images, video or text."
    )
    makes_deep_fakes: bool = Field(
        False, description="Art. 50(4), Art. 3(60): creates deep fakes (real-looking people)."
    )
    publishes_public_interest_text: bool = Field(
        False,
        description="Art. 50(4): publishes AI-generated text on matters of public interest.",
    )
    human_edited: bool = Field(
        False,
        description=(
            "Art. 50(4): a person reviews the published text and takes editorial responsibility."
        ),
    )

    def annex_iii_points(self) -> list[str]:
        """The Annex III points this use case falls under, exclusions already applied."""
        points = []
        if self.biometric_identification == "remote identification":
            points.append("1(a)")
        points += [p for p, (name, _) in ANNEX_III.items() if getattr(self, name)]
        if self.credit == "credit scoring":
            points.append("5(b)")
        return sorted(points, key=_annex_order)

    def art_6_3_conditions(self) -> list[str]:
        """The Art. 6(3) conditions answered "yes", e.g. ``["(d) a preparatory task …"]``."""
        return [text for name, text in _ART_6_3.items() if getattr(self, name)]


def _annex_order(point: str) -> tuple[int, str]:
    return int(point[0]), point[1:]


# --------------------------------------------------------------------------------------------
# German co-determination (Betriebsverfassungsgesetz, BetrVG)
# --------------------------------------------------------------------------------------------

#: The Works Constitution Act (Betriebsverfassungsgesetz) on the Federal Ministry of Justice's
#: site; each section is ``__<number>.html`` below it, e.g. ``__87.html``.
BETRVG_URL = "https://www.gesetze-im-internet.de/betrvg/"


@dataclass(frozen=True)
class WorksCouncilRight:
    """A right of the works council that a use case triggers under the BetrVG.

    These rights apply today, whenever an establishment has a works council, independently of
    the AI Act and its dates, and whether or not the system counts as AI.

    Attributes:
        provision: e.g. ``"§87(1) Nr. 6 BetrVG"``.
        right: ``"agree"`` (co-determination: the company may not introduce or use the system
            without the council's consent; if they cannot agree, the conciliation board,
            *Einigungsstelle*, decides) or ``"inform and consult"``.
        reason: why this use case triggers it, from its answers.
    """

    provision: str
    right: Literal["agree", "inform and consult"]
    reason: str

    @property
    def needs_agreement(self) -> bool:
        """``True`` if the works council must agree before the system is introduced."""
        return self.right == "agree"


def works_council_rights(use_case: UseCase) -> list[WorksCouncilRight]:
    """The works council's rights that a use case triggers (BetrVG §87(1) Nr. 6, §94/§95, §90).

    * §87(1) Nr. 6: introducing and using technical systems that can monitor employees'
      behaviour or performance needs the council's agreement (§87(2): otherwise the
      conciliation board decides). Reading employees' emotions always monitors them.
    * §94, §95: general assessment principles, personnel questionnaires (§94) and selection
      guidelines for hiring, transfers, regrouping and dismissals (§95(1)) need its consent,
      also when AI draws the guidelines up (§95(2a)).
    * §90(1) Nr. 3, §90(2): the council must be informed in good time about planned work
      procedures, including the use of AI, and consulted so its suggestions can count.

    Not legal advice: a first triage to take to HR, the works council and your lawyer.

    Example:
        >>> [r.provision for r in works_council_rights(UseCase(name="x", can_monitor_staff=True))]
        ['§87(1) Nr. 6 BetrVG']
    """
    case = use_case
    rights = []
    if case.can_monitor_staff or case.emotions_at_work_or_school:
        why = (
            "it reads employees' emotions, which monitors their behaviour"
            if case.emotions_at_work_or_school
            else "it can record data that show employees' behaviour or performance"
        )
        rights.append(WorksCouncilRight("§87(1) Nr. 6 BetrVG", "agree", why))
    if case.hr_selection_or_assessment:
        rights.append(
            WorksCouncilRight(
                "§94, §95 BetrVG",
                "agree",
                "it applies assessment principles or selection guidelines to applicants or "
                "staff (§95(2a): also when AI draws them up)",
            )
        )
    if case.changes_how_staff_work:
        rights.append(
            WorksCouncilRight(
                "§90(1) Nr. 3, §90(2) BetrVG",
                "inform and consult",
                "planned AI in how employees work",
            )
        )
    return rights


#: What a works agreement (Betriebsvereinbarung) on AI typically settles: (topic, what it
#: says, where the course helps). Typical content, not a template and not legal advice.
WORKS_AGREEMENT_TOPICS: tuple[tuple[str, str, str], ...] = (
    (
        "scope and inventory",
        "which systems it covers; new systems and changes are notified before use and added "
        "to an annex (a framework agreement plus one annex per system)",
        "the AI inventory, module 08",
    ),
    (
        "purposes and data",
        "what each system may be used for and which employee data it processes; everything "
        "else is excluded",
        "the system card, module 08",
    ),
    (
        "no performance monitoring",
        "no individual behaviour or performance evaluation, or only aggregated or with named "
        "exceptions; data used against the agreement may not support HR measures",
        "KPIs by team, not by person, module 09",
    ),
    (
        "people decide",
        "HR decisions (hiring, tasks, reviews, dismissals) are taken by people; AI output is a "
        "proposal that can be overruled",
        "human review and escalation, modules 04 and 06",
    ),
    (
        "access, retention, deletion",
        "who may see which logs and evaluations, for how long they are kept, when they are deleted",
        "the audit log and its retention, module 05",
    ),
    (
        "transparency and training",
        "how employees are told what the system does; training before use (AI literacy)",
        "the AI-literacy plan, module 09",
    ),
    (
        "council's rights in practice",
        "information before changes, the right to inspect, an expert on AI at the company's "
        "cost (§80(3) BetrVG), a joint review after a pilot",
        "the pilot and its exit rules, module 09",
    ),
)


def works_agreement_topics() -> pd.DataFrame:
    """:data:`WORKS_AGREEMENT_TOPICS` as a table (typical content; not legal advice)."""
    return pd.DataFrame(
        list(WORKS_AGREEMENT_TOPICS), columns=["topic", "what it typically settles", "course"]
    )


def co_determination(use_cases: list[UseCase]) -> pd.DataFrame:
    """Which use cases need the works council's agreement, under which BetrVG section, and why.

    Returns:
        One row per use case: ``use case``, ``works council`` (``"must agree"``, ``"inform
        and consult"`` or ``"-"``), ``BetrVG`` (the sections) and ``why``.

    Introduced in notebooks/08_ai_act.ipynb.
    """
    rows = []
    for case in use_cases:
        rights = works_council_rights(case)
        rows.append(
            {
                "use case": case.name,
                "works council": _council_summary(rights),
                "BetrVG": "; ".join(r.provision for r in rights) or "-",
                "why": "; ".join(r.reason for r in rights) or "-",
            }
        )
    return pd.DataFrame(rows)


def _council_summary(rights: list[WorksCouncilRight]) -> str:
    if any(r.needs_agreement for r in rights):
        return "must agree"
    return "inform and consult" if rights else "-"


# --------------------------------------------------------------------------------------------
# Products under the Machinery Regulation, and the GPAI Code of Practice
# --------------------------------------------------------------------------------------------

#: What the Digital Omnibus changed for machinery, as the course reads the institutions'
#: releases. The exact wording of the adopted act decides; not legal advice.
MACHINERY = (
    "Products covered by the Machinery Regulation (EU) 2023/1230 are exempted from direct "
    "application of the AI Act (Digital Omnibus; Council of the EU, release of 29 Jun 2026). "
    "An AI safety function of a machine is assessed under the Machinery Regulation instead: a "
    "safety component with self-evolving, machine-learning behaviour needs a third-party "
    "conformity assessment (Regulation (EU) 2023/1230, Annex I Part A), which applies from "
    "20 January 2027."
)

#: The General-Purpose AI Code of Practice, question by question: (question, answer, source).
GPAI_CODE_OF_PRACTICE: tuple[tuple[str, str, str], ...] = (
    (
        "What is it?",
        "A voluntary code for providers of general-purpose AI models, final version of "
        "10 Jul 2025, in three chapters: Transparency and Copyright (for every GPAI model "
        "provider, Art. 53) and Safety and Security (for models with systemic risk, Art. 55). "
        "Once the AI Office and the AI Board assess it as adequate, a signatory may rely on "
        "it to demonstrate compliance with Art. 53 and 55, and the Commission focuses its "
        "enforcement on adherence to the code. Who does not sign shows compliance by other "
        "means; the duties are the same.",
        "AI Act Art. 53, 55, 56; European Commission, FAQ 'Signing the General-Purpose AI "
        "Code of Practice' (digital-strategy.ec.europa.eu)",
    ),
    (
        "Who signed?",
        "Model providers sign, chapter by chapter; the Commission publishes the list of "
        "signatories (first list 1 Aug 2025) on its Code of Practice page. Press reports of "
        "that list name OpenAI, Microsoft, Google, Amazon, Anthropic, IBM, Mistral AI and "
        "Aleph Alpha among about 26 signatories, xAI for the Safety and Security chapter "
        "only, and Meta as declining. The course has not checked these names on the "
        "Commission's list: check your vendor there.",
        "European Commission, 'AI Office invites providers to sign the GPAI Code of Practice' "
        "(17 Jul 2025) and its list of signatories",
    ),
    (
        "What does it mean for a company using GPT through the API?",
        "Nothing to sign and no duty under the code: it binds model providers. Building your "
        "own bot on the model makes you the provider of that AI system and a downstream "
        "provider of the model, so the model provider owes you the documentation to "
        "integrate it (Art. 53(1)(b), Annex XII), which the code's Model Documentation Form "
        "collects: ask for it and use it for your system card. Signing is a useful "
        "signal when you choose a vendor, not a certificate for your system: Art. 4, Art. 50 "
        "(and Art. 26 if high-risk) and the GDPR stay your duties.",
        "AI Act Art. 3(68), 53(1)(b), Annex XII",
    ),
)


def gpai_code_of_practice() -> pd.DataFrame:
    """:data:`GPAI_CODE_OF_PRACTICE` as a table: question, answer, source. Not legal advice."""
    return pd.DataFrame(list(GPAI_CODE_OF_PRACTICE), columns=["question", "answer", "source"])


# --------------------------------------------------------------------------------------------
# The assessment
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Obligation:
    """Something the company must do, with the timeline row that says from when.

    Attributes:
        what: the duty in plain words.
        article: the provision, e.g. ``"Art. 26(7)"``.
        timeline_key: the :data:`TIMELINE` key that dates it.
    """

    what: str
    article: str
    timeline_key: str

    def milestone(self) -> Milestone:
        """The :data:`TIMELINE` row that dates this duty."""
        return milestone(self.timeline_key)

    def applies(self, *, as_of: date | None = None) -> str:
        """Whether the duty applies on ``as_of``, as the law stands; a date the Digital Omnibus
        moved names the original one, a date it added says "(new)".

        Example:
            >>> duty = Obligation("human oversight", "Art. 26(2)", "high_risk_annex_iii")
            >>> duty.applies(as_of=date(2026, 12, 4))
            'from 2027-12-02 (originally 2026-08-02)'
        """
        day = as_of or date.today()
        row = self.milestone()
        verb = "since" if row.applies_from <= day else "from"
        text = f"{verb} {row.applies_from.isoformat()}"
        if row.originally is not None:
            text += f" (originally {row.originally.isoformat()})"
        elif row.new:
            text += " (new)"
        return text


@dataclass(frozen=True)
class Assessment:
    """The result of :func:`assess`.

    Attributes:
        use_case: what was assessed.
        tier: ``"prohibited"``, ``"high"``, ``"limited"`` (transparency duties only),
            ``"minimal"``, or ``"out of scope"`` (not an AI system, or excluded by Art. 2).
        articles: the provisions that decided the tier, e.g. ``["Annex III 4(a)"]``.
        obligations: what the company must now do, each dated via :data:`TIMELINE`.
        transparency: the Art. 50 duties that apply on top of the tier.
        notes: exclusions and overrides that were applied, and what to document.
        works_council: the works council's rights under the German BetrVG that the use case
            triggers; they apply now, independently of the AI Act's dates.
    """

    use_case: UseCase
    tier: Tier
    articles: list[str]
    obligations: list[Obligation] = field(default_factory=list)
    transparency: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    works_council: list[WorksCouncilRight] = field(default_factory=list)

    @property
    def needs_works_council_agreement(self) -> bool:
        """``True`` if the works council must agree before the system is introduced (BetrVG)."""
        return any(right.needs_agreement for right in self.works_council)

    def obligations_table(self, *, as_of: date | None = None) -> pd.DataFrame:
        """The obligations with article and "applies on ``as_of``?" (default: today)."""
        return pd.DataFrame(
            {
                "obligation": o.what,
                "article": o.article,
                f"applies on {(as_of or date.today()).isoformat()}?": o.applies(as_of=as_of),
            }
            for o in self.obligations
        )

    def summary(self) -> str:
        """One line: name, tier and deciding provisions."""
        return f"{self.use_case.name}: {self.tier} ({', '.join(self.articles) or '-'})"

    def _repr_html_(self) -> str:
        colour = TIER_COLOURS[self.tier]
        items = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        duties = "".join(f"<li>{html.escape(t)}</li>" for t in self.transparency)
        council = "".join(
            f"<li>{html.escape(r.provision)} ({r.right}): {html.escape(r.reason)}</li>"
            for r in self.works_council
        )
        return (
            f"<div><b>{html.escape(self.use_case.name)}</b>: "
            f"<span style='background:{colour};color:white;padding:1px 8px;border-radius:9px'>"
            f"{self.tier}</span> · {html.escape(', '.join(self.articles) or '-')}"
            f"{'<br>Transparency:<ul>' + duties + '</ul>' if duties else ''}"
            f"{'<br>Works council (BetrVG, now):<ul>' + council + '</ul>' if council else ''}"
            f"{'<br>Notes:<ul>' + items + '</ul>' if items else ''}"
            f"<br><small>{html.escape(NOT_LEGAL_ADVICE)}</small></div>"
        )


#: Colours used for the tiers in tables and plots (colour-blind safe, strongest = darkest).
TIER_COLOURS: dict[str, str] = {
    "prohibited": "#7f0000",
    "high": "#d95f02",
    "limited": "#1b6ca8",
    "minimal": "#1b9e77",
    "out of scope": "#777777",
}
TIER_ORDER: tuple[str, ...] = ("prohibited", "high", "limited", "minimal", "out of scope")

_LITERACY = Obligation(
    "AI literacy: promote it among staff and others who run or use it for you, with "
    "proportionate measures (wording of the Digital Omnibus)",
    "Art. 4",
    "prohibitions",
)


def _scope(case: UseCase) -> list[str]:
    reasons = []
    if not case.is_ai_system:
        reasons.append("Art. 3(1)")
    if case.military_or_defence:
        reasons.append("Art. 2(3)")
    if case.research_only:
        reasons.append("Art. 2(6)")
    if case.personal_use_only:
        reasons.append("Art. 2(10)")
    return reasons


_NEW_BAN = "Art. 5 (new prohibition, Digital Omnibus)"
_MACHINERY_LAW = "Machinery Regulation (EU) 2023/1230, not AI Act Art. 6(1)"


def _prohibited(case: UseCase, notes: list[str]) -> list[str]:
    found = []
    for point, (name, _) in ART_5.items():
        if not getattr(case, name):
            continue
        if point == "f" and case.medical_or_safety_reason:
            notes.append(
                "Art. 5(1)(f) does not ban emotion inference for medical or safety reasons; it "
                "is still emotion recognition under Annex III 1(c)."
            )
            continue
        found.append(f"Art. 5(1)({point})")
    if case.generates_intimate_imagery:
        found.append(_NEW_BAN)
        notes.append(
            "The ban on AI systems generating non-consensual intimate imagery or child sexual "
            "abuse material was added to Art. 5 by the Digital Omnibus and applies from "
            "2 Dec 2026 (TIMELINE key 'intimate_imagery_ban'); such content is illegal under "
            "other law already."
        )
    return found


def _transparency(case: UseCase) -> list[tuple[str, str, str]]:
    """The Art. 50 duties as ``(article, who must act, what to do)``."""
    duties = []
    if case.talks_to_people and not case.obviously_ai:
        duties.append(
            (
                "Art. 50(1)",
                "provider",
                "tell people they are interacting with an AI system, at the latest at the "
                "first interaction",
            )
        )
    if case.generates_synthetic_content:
        duties.append(
            (
                "Art. 50(2)",
                "provider",
                "mark synthetic audio, images, video and text as AI-generated in a "
                "machine-readable way",
            )
        )
    if case.emotion_recognition or case.biometric_categorisation:
        duties.append(
            (
                "Art. 50(3)",
                "deployer",
                "inform the people exposed to emotion recognition or biometric categorisation",
            )
        )
    if case.makes_deep_fakes:
        duties.append(("Art. 50(4)", "deployer", "disclose that deep-fake content is artificial"))
    if case.publishes_public_interest_text and not case.human_edited:
        duties.append(
            (
                "Art. 50(4)",
                "deployer",
                "disclose AI-generated text published on matters of public interest (not "
                "needed if a person reviews it and takes editorial responsibility)",
            )
        )
    return duties


def _high_risk_obligations(case: UseCase, points: list[str], key: str) -> list[Obligation]:
    duties: list[Obligation] = []
    if case.role == "provider":
        duties += [
            Obligation(
                "Meet the high-risk requirements: risk management, data governance, technical "
                "documentation, logging, instructions, human oversight, accuracy and "
                "robustness",
                "Art. 16; Art. 9-15",
                key,
            ),
            Obligation("Quality management system", "Art. 17", key),
            Obligation("Conformity assessment before putting it into service", "Art. 43", key),
            Obligation("Register the system in the EU database", "Art. 49", key),
        ]
    duties += [
        Obligation("Use it according to the provider's instructions", "Art. 26(1)", key),
        Obligation("Assign competent human oversight", "Art. 26(2)", key),
        Obligation("Make sure the input data are relevant", "Art. 26(4)", key),
        Obligation("Monitor operation; report serious incidents", "Art. 26(5)", key),
        Obligation("Keep the logs for at least six months", "Art. 26(6)", key),
        Obligation(
            "Inform the people affected that a high-risk AI system helps decide about them",
            "Art. 26(11)",
            key,
        ),
        Obligation(
            "Use the provider's information for the GDPR data protection impact assessment",
            "Art. 26(9); GDPR Art. 35",
            key,
        ),
    ]
    if any(p.startswith("4") for p in points):
        duties.append(
            Obligation(
                "Inform workers' representatives (works council) and workers before use at "
                "the workplace",
                "Art. 26(7)",
                key,
            )
        )
    if case.public_body_or_service or "5(b)" in points or "5(c)" in points:
        duties.append(
            Obligation(
                "Fundamental rights impact assessment (FRIA) before first use", "Art. 27", key
            )
        )
    return duties


def assess(use_case: UseCase) -> Assessment:
    """Classify a use case under the AI Act, following the decision order step by step.

    1. Not an AI system (Art. 3(1)) or excluded (Art. 2(3), 2(6), 2(10)) → ``"out of scope"``.
    2. Any Art. 5 practice → ``"prohibited"`` (emotion inference for medical or safety reasons
       is not banned by 5(1)(f)).
    3. Safety component of an Annex I product needing third-party assessment → ``"high"``
       (Art. 6(1)); machinery is exempted by the Digital Omnibus and goes to the Machinery
       Regulation instead (:data:`MACHINERY`).
    4. An Annex III use → ``"high"``, unless an Art. 6(3) condition holds **and** the system
       does not profile people. Fraud detection is not Annex III 5(b); 1:1 biometric
       verification is not Annex III 1(a).
    5. Art. 50 duties come on top of any tier (Art. 50(6)); with no other duty → ``"limited"``.
    6. Otherwise ``"minimal"``. Art. 4 AI literacy applies to every provider and deployer.

    Independently of the tier, the works council's rights under the German BetrVG are listed
    (:func:`works_council_rights`): they apply now, not on an AI Act date.

    Args:
        use_case: the questionnaire's answers.

    Returns:
        An :class:`Assessment`. It is a first triage, not legal advice.

    Example:
        >>> assess(UseCase(name="Agent mood monitor", emotions_at_work_or_school=True)).articles
        ['Art. 5(1)(f)']
    """
    case = use_case
    notes: list[str] = []
    council = works_council_rights(case)
    if case.role == "provider" and case.builds_on_gpai_model:
        notes.append(
            "You are the provider of this system (Art. 3(3)); the general-purpose model's "
            "duties (Art. 53, 55) stay with the model vendor, who owes you the documentation "
            "to integrate it (Art. 53(1)(b); see gpai_code_of_practice())."
        )

    excluded = _scope(case)
    if excluded:
        notes.append(
            "The AI Act does not apply; GDPR and other law (e.g. the BetrVG for systems used "
            "on employees) still do."
        )
        return Assessment(case, "out of scope", excluded, [], [], notes, council)

    banned = _prohibited(case, notes)
    if banned:
        key = "intimate_imagery_ban" if banned == [_NEW_BAN] else "prohibitions"
        stop = Obligation("Do not develop, place on the market or use this practice", "Art. 5", key)
        return Assessment(case, "prohibited", banned, [stop, _LITERACY], [], notes, council)

    articles: list[str] = []
    obligations: list[Obligation] = []
    if case.annex_i_safety_component and case.machinery_product:
        notes.append(MACHINERY)
        if not case.annex_iii_points() and not _transparency(case):
            return Assessment(case, "out of scope", [_MACHINERY_LAW], [], [], notes, council)
    elif case.annex_i_safety_component:
        articles.append("Art. 6(1)")
        obligations += _high_risk_obligations(case, [], "high_risk_annex_i")

    if case.biometric_identification == "1:1 verification":
        notes.append(
            "1:1 biometric verification (confirming a person is who they claim to be) is "
            "excluded from Annex III 1(a)."
        )
    if case.credit == "fraud detection":
        notes.append("Annex III 5(b) excludes AI systems used to detect financial fraud.")

    points = case.annex_iii_points()
    conditions = case.art_6_3_conditions()
    if points and conditions and not case.profiles_people:
        notes.append(
            f"Art. 6(3) derogation for Annex III {', '.join(points)}: "
            f"{'; '.join(conditions)}. Document the assessment before putting it into service "
            "(Art. 6(4)) and register the system (Art. 49(2))."
        )
        obligations += [
            Obligation(
                "Document why the system is not high-risk", "Art. 6(4)", "high_risk_annex_iii"
            ),
            Obligation("Register it in the EU database", "Art. 49(2)", "high_risk_annex_iii"),
        ]
        articles.append("Art. 6(3)")
    elif points:
        articles += [f"Annex III {p}" for p in points]
        if conditions:
            articles.append("Art. 6(3) last subparagraph")
            notes.append(
                "The Art. 6(3) derogation does not apply: the system profiles natural persons, "
                "so an Annex III system is always high-risk."
            )
        obligations += _high_risk_obligations(case, points, "high_risk_annex_iii")
        if "5(b)" in points:
            notes.append(
                "GDPR Art. 22: a credit decision based solely on automated scoring needs an "
                "exception and human intervention (CJEU C-634/21, SCHUFA)."
            )

    high = any(a.startswith(("Annex III", "Art. 6(1)")) for a in articles)
    duties = _transparency(case)
    transparency = [f"{article} ({holder}): {what}." for article, holder, what in duties]
    for article, holder, what in duties:
        if holder == case.role:
            obligations.append(Obligation(what[0].upper() + what[1:], article, "transparency"))
        else:
            notes.append(
                f"{article} is the {holder}'s duty: {what}. As {case.role}, make sure your "
                f"{holder} does it."
            )
    obligations.append(_LITERACY)

    transparency_articles = list(dict.fromkeys(article for article, _, _ in duties))
    if high:
        tier: Tier = "high"
    elif duties:
        tier = "limited"
        articles += transparency_articles
    else:
        tier = "minimal"
        if "Art. 6(3)" not in articles:
            articles.append("no Annex III use")
    if council and any(o.article == "Art. 26(7)" for o in obligations):
        notes.append(
            "Art. 26(7) (informing workers' representatives) comes on top of the works "
            "council's rights under the BetrVG, which apply now."
        )
    return Assessment(case, tier, articles, obligations, transparency, notes, council)


# --------------------------------------------------------------------------------------------
# Isar Cycles' AI inventory
# --------------------------------------------------------------------------------------------


def inventory() -> list[UseCase]:
    """Isar Cycles' AI inventory: 17 use cases from support, HR, finance, marketing, workshop, IT.

    A fictional company's list, made to cover every tier, the tricky exclusions and the works
    council's rights under the German BetrVG. The answers are the company's own reading;
    :func:`classify` turns them into tiers, :func:`co_determination` into BetrVG rights.

    Introduced in notebooks/08_ai_act.ipynb.
    """
    gpt = {"builds_on_gpai_model": True}
    work = {"changes_how_staff_work": True}  # §90 BetrVG: planned AI in work procedures
    return [
        UseCase(
            name="Website support chatbot",
            department="Support",
            description="Answers customers from the help articles; Isar Cycles built it on an "
            "LLM API. Its log holds customers' conversations, not agents' work.",
            role="provider",
            talks_to_people=True,
            **gpt,
            **work,
        ),
        UseCase(
            name="Ticket triage",
            department="Support",
            description="Sorts incoming e-mails into categories for the support team.",
            role="provider",
            **gpt,
            **work,
        ),
        UseCase(
            name="Hotline anger detector",
            department="Support",
            description="Recognises angry callers from their voice to prioritise callbacks; "
            "each analysed call is linked to the agent who took it.",
            emotion_recognition=True,
            can_monitor_staff=True,
            **work,
        ),
        UseCase(
            name="Call-centre agent mood monitor",
            department="Support",
            description="Vendor tool scoring agents' stress and mood from their voices.",
            emotions_at_work_or_school=True,
            can_monitor_staff=True,
            **work,
        ),
        UseCase(
            name="CV ranking for mechanic jobs",
            department="HR",
            description="Ranks applications for open workshop positions.",
            recruitment=True,
            hr_selection_or_assessment=True,
            **work,
        ),
        UseCase(
            name="Job ad text assistant",
            department="HR",
            description="Drafts job adverts; HR edits and publishes them.",
            generates_synthetic_content=True,
            human_edited=True,
            **work,
        ),
        UseCase(
            name="Shift planner by performance",
            department="Workshop",
            description="Allocates repair jobs to mechanics by their measured speed and errors.",
            work_decisions=True,
            profiles_people=True,
            can_monitor_staff=True,
            hr_selection_or_assessment=True,
            **work,
        ),
        UseCase(
            name="Repair-time estimator",
            department="Workshop",
            description="Predicts how long a repair takes from the fault description.",
            **work,
        ),
        UseCase(
            name="Welding-robot safety stop",
            department="Workshop",
            description="Vendor's machine-learning safety function that stops the robot when a "
            "person enters its cell; it detects a person, not who it is.",
            annex_i_safety_component=True,
            machinery_product=True,
            **work,
        ),
        UseCase(
            name="Leasing credit scoring",
            department="Finance",
            description="Scores private customers' creditworthiness for bike financing.",
            credit="credit scoring",
            profiles_people=True,
            **work,
        ),
        UseCase(
            name="Payment fraud detection",
            department="Finance",
            description="Flags suspicious card payments in the web shop.",
            credit="fraud detection",
            **work,
        ),
        UseCase(
            name="Invoice data extraction",
            department="Finance",
            description="Reads supplier invoices into the accounting system.",
            **work,
        ),
        UseCase(
            name="Product photo generator",
            department="Marketing",
            description="Generates lifestyle images of bikes for social media.",
            role="provider",
            generates_synthetic_content=True,
            **work,
        ),
        UseCase(
            name="Newsletter personalisation",
            department="Marketing",
            description="Chooses which bikes to show each subscriber.",
            **work,
        ),
        UseCase(
            name="Internal code assistant",
            department="IT",
            description="Developers use a coding assistant in their editor; the vendor's admin "
            "console shows usage per developer.",
            can_monitor_staff=True,
            **work,
        ),
        UseCase(
            name="Face unlock for the server room",
            department="IT",
            description="Confirms that the person at the door is the admin who badged in, and "
            "logs who entered when.",
            biometric_identification="1:1 verification",
            can_monitor_staff=True,
            **work,
        ),
        UseCase(
            name="Candidate pre-screening checklist",
            department="HR",
            description="Checks that applications contain all documents before HR reads them.",
            recruitment=True,
            preparatory_task_only=True,
            **work,
        ),
    ]


def classify(use_cases: list[UseCase]) -> pd.DataFrame:
    """Assess every use case; one row each with department, role, tier and deciding provisions.

    The ``works council`` column says what the German BetrVG asks (``"must agree"``,
    ``"inform and consult"`` or ``"-"``); :func:`co_determination` gives sections and reasons.

    Introduced in notebooks/08_ai_act.ipynb.
    """
    rows = []
    for case in use_cases:
        result = assess(case)
        rows.append(
            {
                "use case": case.name,
                "department": case.department,
                "role": case.role,
                "tier": result.tier,
                "articles": ", ".join(result.articles),
                "transparency": ", ".join(t.split(" (")[0] for t in result.transparency) or "-",
                "works council": _council_summary(result.works_council),
            }
        )
    table = pd.DataFrame(rows)
    table["tier"] = pd.Categorical(table["tier"], categories=list(TIER_ORDER), ordered=True)
    return table


def plot_inventory(table: pd.DataFrame) -> ChartFigure:
    """Use cases per department, stacked by tier, from a :func:`classify` table.

    Introduced in notebooks/08_ai_act.ipynb.
    """
    counts = pd.crosstab(table["department"], table["tier"])
    counts = counts.loc[:, counts.sum() > 0]
    figure = ChartFigure(figsize=(10, 5), dpi=80)
    ax = figure.add_subplot()
    left = pd.Series(0, index=counts.index)
    for tier in counts.columns:
        ax.barh(counts.index, counts[tier], left=left, color=TIER_COLOURS[str(tier)], label=tier)
        left += counts[tier]
    ax.set_xlim(0, int(left.max()) + 2)  # room for the legend
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("number of AI use cases", fontsize=14)
    ax.set_ylabel("department", fontsize=14)
    ax.tick_params(labelsize=13)
    ax.set_title(f"AI use cases by department and risk tier ({len(table)} in all)", fontsize=16)
    ax.legend(title="tier", fontsize=12, title_fontsize=12, loc="lower right")
    figure.tight_layout()
    return figure


# --------------------------------------------------------------------------------------------
# What GDPR adds
# --------------------------------------------------------------------------------------------

#: (GDPR provision, what it asks, when it bites for an LLM support system, what the course does).
GDPR_POINTS: tuple[tuple[str, str, str, str], ...] = (
    (
        "Art. 5(1)(c)",
        "data minimisation: only the personal data needed, kept only as long as needed",
        "prompts and logs hold names, addresses, IBANs",
        "redact before the model and in logs; set a log retention (module 05)",
    ),
    (
        "Art. 22",
        "no decision based solely on automated processing with legal or similarly "
        "significant effect, unless contract, law or explicit consent; then human "
        "intervention, a right to be heard and to contest",
        "refunds, credit or leasing decisions made by the bot alone",
        "the bot escalates decisions to people; refunds need human approval (module 06)",
    ),
    (
        "Art. 28",
        "processor agreement with the model provider: instructions incl. transfers, "
        "confidentiality, security, sub-processors, assistance, deletion or return, audits",
        "any hosted model API (OpenAI, Azure OpenAI, a class server)",
        "the system card names provider, model and region",
    ),
    (
        "Art. 35",
        "data protection impact assessment for likely high risk: systematic profiling with "
        "significant effects, large-scale special-category data, large-scale monitoring",
        "credit scoring, employee monitoring, health data in tickets",
        "the AI Act assessment feeds the DPIA (AI Act Art. 26(9))",
    ),
    (
        "Art. 44-49",
        "transfers outside the EU/EEA need a basis: adequacy decision (Art. 45, e.g. the "
        "EU-US Data Privacy Framework 2023/1795) or standard contractual clauses (Art. 46)",
        "a US-hosted model API",
        "EU data residency simplifies this; it is a design choice, not a GDPR requirement",
    ),
)


def gdpr_table() -> pd.DataFrame:
    """:data:`GDPR_POINTS` as a table for the lesson and the system card."""
    columns = ["GDPR", "what it asks", "when it matters for the bot", "what the course does"]
    return pd.DataFrame(list(GDPR_POINTS), columns=columns)
