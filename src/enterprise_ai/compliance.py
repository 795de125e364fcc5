"""EU AI Act: classify a use case, keep the dates as data, and list what GDPR adds.

Three jobs, all plain Python without a model:

* :class:`UseCase` is the questionnaire: one field per question, each naming the provision of
  Regulation (EU) 2024/1689 (the AI Act) it stems from. :func:`assess` walks the decision order
  (scope → Art. 5 → Art. 6(1)/Annex I → Annex III with the Art. 6(3) derogation → Art. 50 on
  top → minimal) and returns an :class:`Assessment`: tier, deciding provisions, obligations
  with their dates, transparency duties and notes.
* :data:`TIMELINE` is the one table of dates: when each part applies under the AI Act as
  published and under the Digital Omnibus on AI, each row with its status and source.
  :func:`timeline` shows it for a given day (``as_of``), so stored notebook outputs do not
  change when the calendar does.
* :func:`inventory` is Isar Cycles' list of AI use cases, classified with :func:`classify`;
  :data:`GDPR_POINTS` is what data-protection law adds for an LLM support system.

The automated checks on the support bot (:func:`check_bot`, :class:`SupportBot`) and the
system card (:func:`system_card`) live in :mod:`enterprise_ai.compliance_bot` and are
re-exported here, so ``compliance.check_bot(bot)`` works.

Facts come from the legal text (https://eur-lex.europa.eu/eli/reg/2024/1689/oj), cited by
article. This module is a teaching aid for a first triage of use cases: **it is not legal
advice**; a lawyer or your compliance function decides the real case.

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

from enterprise_ai.compliance_bot import (
    NOT_LEGAL_ADVICE,
    BotFacts,
    CheckReport,
    SupportBot,
    check_bot,
    discloses_ai,
    system_card,
)
from enterprise_ai.costs import ChartFigure

__all__ = [
    "AI_ACT_URL",
    "BotFacts",
    "CheckReport",
    "SupportBot",
    "ANNEX_III",
    "ART_5",
    "GDPR_POINTS",
    "NOT_LEGAL_ADVICE",
    "OMNIBUS",
    "PUBLISHED",
    "TIER_COLOURS",
    "TIER_ORDER",
    "TIMELINE",
    "Assessment",
    "Milestone",
    "Obligation",
    "Tier",
    "UseCase",
    "assess",
    "check_bot",
    "classify",
    "discloses_ai",
    "gdpr_table",
    "inventory",
    "milestone",
    "plot_inventory",
    "plot_timeline",
    "system_card",
    "timeline",
]

AI_ACT_URL = "https://eur-lex.europa.eu/eli/reg/2024/1689/oj"
OMNIBUS_ID = "COM(2025) 836 (Digital Omnibus on AI)"

Tier = Literal["out of scope", "prohibited", "high", "limited", "minimal"]
Regime = Literal["AI Act as published", "Digital Omnibus"]
PUBLISHED: Regime = "AI Act as published"
OMNIBUS: Regime = "Digital Omnibus"

# --------------------------------------------------------------------------------------------
# The timeline: one table, with status and source on every row
# --------------------------------------------------------------------------------------------

_STATUS_LAW = "law: published in the Official Journal (OJ L, 12 Jul 2024)"
_STATUS_OMNIBUS = (
    "adopted by Parliament (16 Jun 2026) and Council (29 Jun 2026); OJ publication to verify"
)


@dataclass(frozen=True)
class Milestone:
    """One row of :data:`TIMELINE`.

    Attributes:
        key: a short id that obligations refer to, e.g. ``"high_risk_annex_iii"``.
        milestone: what applies (or happens) on that day, in plain words.
        applies_from: the day.
        regime: ``"AI Act as published"`` or ``"Digital Omnibus"``.
        status: the legal status of the text that sets the date, as far as the course knows.
        source: where the date comes from (URL or document id).
        articles: the provisions concerned.
    """

    key: str
    milestone: str
    applies_from: date
    regime: Regime
    status: str
    source: str
    articles: str


#: Every date of the module, once. Obligations point to rows by ``key``. Rows of the Digital
#: Omnibus carry its status: update ``status`` here (and nowhere else) when it changes.
TIMELINE: tuple[Milestone, ...] = (
    Milestone(
        "entry_into_force",
        "AI Act enters into force",
        date(2024, 8, 1),
        PUBLISHED,
        _STATUS_LAW,
        AI_ACT_URL,
        "Art. 113",
    ),
    Milestone(
        "prohibitions",
        "Chapters I and II: definitions, AI literacy, prohibited practices",
        date(2025, 2, 2),
        PUBLISHED,
        _STATUS_LAW,
        AI_ACT_URL,
        "Art. 113(a); Art. 4; Art. 5",
    ),
    Milestone(
        "gpai",
        "General-purpose AI model duties, governance, penalties",
        date(2025, 8, 2),
        PUBLISHED,
        _STATUS_LAW,
        AI_ACT_URL,
        "Art. 113(b); Chapter V (Art. 51-56); Art. 99, 101",
    ),
    Milestone(
        "high_risk_annex_iii",
        "The rest, incl. Annex III high-risk duties and deployer duties",
        date(2026, 8, 2),
        PUBLISHED,
        _STATUS_LAW,
        AI_ACT_URL,
        "Art. 113; Art. 6(2), Annex III; Art. 26, 27",
    ),
    Milestone(
        "transparency",
        "Transparency duties for chatbots, synthetic content, deep fakes",
        date(2026, 8, 2),
        PUBLISHED,
        _STATUS_LAW,
        AI_ACT_URL,
        "Art. 113; Art. 50",
    ),
    Milestone(
        "high_risk_annex_i",
        "High-risk safety components of Annex I products",
        date(2027, 8, 2),
        PUBLISHED,
        _STATUS_LAW,
        AI_ACT_URL,
        "Art. 113(c); Art. 6(1), Annex I",
    ),
    Milestone(
        "gpai_legacy",
        "GPAI models placed on the market before 2 Aug 2025 must comply",
        date(2027, 8, 2),
        PUBLISHED,
        _STATUS_LAW,
        AI_ACT_URL,
        "Art. 111(3)",
    ),
    Milestone(
        "omnibus_proposal",
        "Commission proposes the Digital Omnibus on AI",
        date(2025, 11, 19),
        OMNIBUS,
        "proposal",
        OMNIBUS_ID,
        "-",
    ),
    Milestone(
        "omnibus_agreement",
        "Political agreement on the Digital Omnibus",
        date(2026, 5, 7),
        OMNIBUS,
        "political agreement",
        OMNIBUS_ID,
        "-",
    ),
    Milestone(
        "omnibus_parliament",
        "European Parliament adopts the Digital Omnibus",
        date(2026, 6, 16),
        OMNIBUS,
        "adopted by Parliament",
        OMNIBUS_ID,
        "-",
    ),
    Milestone(
        "omnibus_council",
        "Council adopts the Digital Omnibus",
        date(2026, 6, 29),
        OMNIBUS,
        "adopted by Council; OJ publication to verify",
        OMNIBUS_ID,
        "-",
    ),
    Milestone(
        "transparency",
        "Transparency duties stay at 2 Aug 2026",
        date(2026, 8, 2),
        OMNIBUS,
        _STATUS_OMNIBUS,
        OMNIBUS_ID,
        "Art. 50",
    ),
    Milestone(
        "marking_grace",
        "End of grace period: machine-readable marking for systems already on the market",
        date(2026, 12, 2),
        OMNIBUS,
        _STATUS_OMNIBUS,
        OMNIBUS_ID,
        "Art. 50(2)",
    ),
    Milestone(
        "intimate_imagery_ban",
        "New ban: AI generating non-consensual intimate imagery or child sexual abuse material",
        date(2026, 12, 2),
        OMNIBUS,
        _STATUS_OMNIBUS,
        OMNIBUS_ID,
        "Art. 5 (new point)",
    ),
    Milestone(
        "high_risk_annex_iii",
        "Annex III high-risk duties move to 2 Dec 2027",
        date(2027, 12, 2),
        OMNIBUS,
        _STATUS_OMNIBUS,
        OMNIBUS_ID,
        "Art. 6(2), Annex III; Art. 26, 27",
    ),
    Milestone(
        "high_risk_annex_i",
        "Annex I product rules move to 2 Aug 2028",
        date(2028, 8, 2),
        OMNIBUS,
        _STATUS_OMNIBUS,
        OMNIBUS_ID,
        "Art. 6(1), Annex I",
    ),
)


def milestone(key: str, *, regime: Regime = PUBLISHED) -> Milestone | None:
    """The :data:`TIMELINE` row for ``key`` under ``regime`` (``None`` if that regime has none).

    Raises:
        KeyError: no row at all has this key.
    """
    rows = [m for m in TIMELINE if m.key == key]
    if not rows:
        known = sorted({m.key for m in TIMELINE})
        raise KeyError(f"No timeline row with key {key!r}. Known keys: {known}.")
    return next((m for m in rows if m.regime == regime), None)


def timeline(*, as_of: date | None = None) -> pd.DataFrame:
    """:data:`TIMELINE` as a table, sorted by date, with "applies on ``as_of``?".

    Args:
        as_of: the day to judge "already applies?" against; default ``date.today()``. Pass a
            fixed day in notebooks, so their stored outputs stay reproducible.

    Returns:
        Columns ``milestone, applies_from, regime, status, source, articles, key`` and
        ``reached`` (``True`` if ``applies_from <= as_of``). A reached Omnibus date still depends
        on the Omnibus being in force: read ``status``.

    Example:
        >>> table = timeline(as_of=date(2025, 3, 1))
        >>> table.loc[table["key"] == "prohibitions", "reached"].tolist()
        [True]
    """
    day = as_of or date.today()
    table = pd.DataFrame([m.__dict__ for m in TIMELINE])
    table["reached"] = table["applies_from"] <= day
    columns = ["milestone", "applies_from", "regime", "status", "source", "articles", "key"]
    table = table[[*columns, "reached"]]
    return table.sort_values(["applies_from", "regime"], kind="stable").reset_index(drop=True)


#: The rows of :func:`plot_timeline`: timeline key → label.
_PLOTTED_DUTIES = {
    "prohibitions": "Art. 5 bans, Art. 4",
    "gpai": "GPAI model duties",
    "transparency": "Art. 50 transparency",
    "high_risk_annex_iii": "Annex III high-risk",
    "high_risk_annex_i": "Annex I products",
}


def plot_timeline(*, as_of: date | None = None) -> ChartFigure:
    """When each group of duties applies: as published (circles) and Digital Omnibus (diamonds).

    Args:
        as_of: the day drawn as a dashed line; default ``date.today()``.

    Returns:
        A matplotlib figure that shows itself in a notebook (``.savefig(path)`` saves it).

    Introduced in notebooks/08_ai_act.ipynb.
    """
    day = as_of or date.today()
    figure = ChartFigure(figsize=(11, 4.8), dpi=80)
    ax = figure.add_subplot()
    # (marker, colour, vertical offset): the offset keeps equal dates of both regimes visible.
    styles = {PUBLISHED: ("o", "#1b6ca8", -0.12), OMNIBUS: ("D", "#d95f02", 0.12)}
    for y, key in enumerate(_PLOTTED_DUTIES):
        for regime, (marker, colour, offset) in styles.items():
            row = milestone(key, regime=regime)
            if row is not None:
                label = regime if key == "high_risk_annex_iii" else None
                ax.scatter(
                    row.applies_from, y + offset, marker=marker, s=170, color=colour, label=label
                )
    ax.axvline(day, color="grey", linestyle="--", linewidth=2, label=f"as of {day.isoformat()}")
    ax.set_yticks(range(len(_PLOTTED_DUTIES)), list(_PLOTTED_DUTIES.values()), fontsize=14)
    ax.tick_params(axis="x", labelsize=13)
    ax.set_xlabel("date from which the duties apply", fontsize=14)
    ax.set_title("AI Act dates: as published vs. Digital Omnibus (status: verify)", fontsize=16)
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
            "Digital Omnibus, new Art. 5 ban: generates non-consensual intimate imagery or "
            "child sexual abuse material (see TIMELINE for its status)."
        ),
    )
    # Step 3: Art. 6(1) and Annex I
    annex_i_safety_component: bool = Field(
        False,
        description=(
            "Art. 6(1): a safety component of a product under Annex I law (machinery, toys, "
            "lifts, medical devices, ...) that needs a third-party conformity assessment."
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

    def dates(self) -> dict[Regime, Milestone]:
        """The dating rows: under the AI Act as published and (if it changes it) the Omnibus."""
        found: dict[Regime, Milestone] = {}
        for regime in (PUBLISHED, OMNIBUS):
            row = milestone(self.timeline_key, regime=regime)
            if row is not None:
                found[regime] = row
        return found

    def applies(self, *, as_of: date | None = None) -> str:
        """Whether the duty applies on ``as_of``, under each regime where they differ.

        Example:
            >>> duty = Obligation("human oversight", "Art. 26(2)", "high_risk_annex_iii")
            >>> duty.applies(as_of=date(2026, 11, 25))
            'as published: since 2026-08-02; Digital Omnibus: from 2027-12-02 (status to verify)'
        """
        day = as_of or date.today()
        rows = self.dates()
        if len({row.applies_from for row in rows.values()}) == 1:
            when = next(iter(rows.values())).applies_from
            return f"since {when.isoformat()}" if when <= day else f"from {when.isoformat()}"
        parts = []
        for regime, row in rows.items():
            verb = "since" if row.applies_from <= day else "from"
            label = "as published" if regime == PUBLISHED else regime
            extra = " (status to verify)" if "verify" in row.status else ""
            parts.append(f"{label}: {verb} {row.applies_from.isoformat()}{extra}")
        return "; ".join(parts)


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
    """

    use_case: UseCase
    tier: Tier
    articles: list[str]
    obligations: list[Obligation] = field(default_factory=list)
    transparency: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

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
        return (
            f"<div><b>{html.escape(self.use_case.name)}</b>: "
            f"<span style='background:{colour};color:white;padding:1px 8px;border-radius:9px'>"
            f"{self.tier}</span> · {html.escape(', '.join(self.articles) or '-')}"
            f"{'<br>Transparency:<ul>' + duties + '</ul>' if duties else ''}"
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
    "AI literacy: make sure staff who run or use it know enough about AI (the Digital "
    "Omnibus softens this duty; check the final text)",
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
        found.append("Art. 5 (Digital Omnibus ban)")
        notes.append(
            "The ban on non-consensual intimate imagery and CSAM comes with the Digital "
            "Omnibus (status: see TIMELINE, key 'intimate_imagery_ban'); such content is "
            "illegal under other law already."
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
       (Art. 6(1)).
    4. An Annex III use → ``"high"``, unless an Art. 6(3) condition holds **and** the system
       does not profile people. Fraud detection is not Annex III 5(b); 1:1 biometric
       verification is not Annex III 1(a).
    5. Art. 50 duties come on top of any tier (Art. 50(6)); with no other duty → ``"limited"``.
    6. Otherwise ``"minimal"``. Art. 4 AI literacy applies to every provider and deployer.

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
    if case.role == "provider" and case.builds_on_gpai_model:
        notes.append(
            "You are the provider of this system (Art. 3(3)); the general-purpose model's "
            "duties (Art. 53, 55) stay with the model vendor."
        )

    excluded = _scope(case)
    if excluded:
        notes.append(
            "The AI Act does not apply; GDPR and other law still do if personal data is used."
        )
        return Assessment(case, "out of scope", excluded, [], [], notes)

    banned = _prohibited(case, notes)
    if banned:
        key = (
            "intimate_imagery_ban"
            if banned == ["Art. 5 (Digital Omnibus ban)"]
            else ("prohibitions")
        )
        stop = Obligation("Do not develop, place on the market or use this practice", "Art. 5", key)
        return Assessment(case, "prohibited", banned, [stop, _LITERACY], [], notes)

    articles: list[str] = []
    obligations: list[Obligation] = []
    if case.annex_i_safety_component:
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
    return Assessment(case, tier, articles, obligations, transparency, notes)


# --------------------------------------------------------------------------------------------
# Isar Cycles' AI inventory
# --------------------------------------------------------------------------------------------


def inventory() -> list[UseCase]:
    """Isar Cycles' AI inventory: 17 use cases from support, HR, finance, marketing, workshop, IT.

    A fictional company's list, made to cover every tier and the tricky exclusions. The answers
    are the company's own reading; :func:`classify` turns them into tiers.

    Introduced in notebooks/08_ai_act.ipynb.
    """
    gpt = {"builds_on_gpai_model": True}
    return [
        UseCase(
            name="Website support chatbot",
            department="Support",
            description="Answers customers from the help articles; Isar Cycles built it on an "
            "LLM API.",
            role="provider",
            talks_to_people=True,
            **gpt,
        ),
        UseCase(
            name="Ticket triage",
            department="Support",
            description="Sorts incoming e-mails into categories for the support team.",
            role="provider",
            **gpt,
        ),
        UseCase(
            name="Hotline anger detector",
            department="Support",
            description="Recognises angry callers from their voice to prioritise callbacks.",
            emotion_recognition=True,
        ),
        UseCase(
            name="Call-centre agent mood monitor",
            department="Support",
            description="Vendor tool scoring agents' stress and mood from their voices.",
            emotions_at_work_or_school=True,
        ),
        UseCase(
            name="CV ranking for mechanic jobs",
            department="HR",
            description="Ranks applications for open workshop positions.",
            recruitment=True,
        ),
        UseCase(
            name="Job ad text assistant",
            department="HR",
            description="Drafts job adverts; HR edits and publishes them.",
            generates_synthetic_content=True,
            human_edited=True,
        ),
        UseCase(
            name="Shift planner by performance",
            department="Workshop",
            description="Allocates repair jobs to mechanics by their measured speed and errors.",
            work_decisions=True,
            profiles_people=True,
        ),
        UseCase(
            name="Repair-time estimator",
            department="Workshop",
            description="Predicts how long a repair takes from the fault description.",
        ),
        UseCase(
            name="Welding-robot safety stop",
            department="Workshop",
            description="Vendor's machine-learning safety function that stops the robot when a "
            "person enters its cell.",
            annex_i_safety_component=True,
        ),
        UseCase(
            name="Leasing credit scoring",
            department="Finance",
            description="Scores private customers' creditworthiness for bike financing.",
            credit="credit scoring",
            profiles_people=True,
        ),
        UseCase(
            name="Payment fraud detection",
            department="Finance",
            description="Flags suspicious card payments in the web shop.",
            credit="fraud detection",
        ),
        UseCase(
            name="Invoice data extraction",
            department="Finance",
            description="Reads supplier invoices into the accounting system.",
        ),
        UseCase(
            name="Product photo generator",
            department="Marketing",
            description="Generates lifestyle images of bikes for social media.",
            role="provider",
            generates_synthetic_content=True,
        ),
        UseCase(
            name="Newsletter personalisation",
            department="Marketing",
            description="Chooses which bikes to show each subscriber.",
        ),
        UseCase(
            name="Internal code assistant",
            department="IT",
            description="Developers use a coding assistant in their editor.",
        ),
        UseCase(
            name="Face unlock for the server room",
            department="IT",
            description="Confirms that the person at the door is the admin who badged in.",
            biometric_identification="1:1 verification",
        ),
        UseCase(
            name="Candidate pre-screening checklist",
            department="HR",
            description="Checks that applications contain all documents before HR reads them.",
            recruitment=True,
            preparatory_task_only=True,
        ),
    ]


def classify(use_cases: list[UseCase]) -> pd.DataFrame:
    """Assess every use case; one row each with department, role, tier and deciding provisions.

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
