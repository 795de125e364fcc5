"""The AI Act classifier, the timeline table, and the compliance checks on the support bot.

The decision order is tested on the five worked examples of the course's compliance facts, on
every branch (scope, Art. 5, Art. 6(1), Annex III, Art. 6(3), Art. 50, minimal), on the three
exclusions/overrides, and on Art. 50 on top of high-risk. ``check_bot`` is tested on a bot that
passes and on bots that fail, with a scripted model, so no test depends on model wording.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from enterprise_ai import compliance
from enterprise_ai.compliance import TIMELINE, UseCase, assess, classify, inventory, timeline
from enterprise_ai.compliance_bot import (
    DISCLOSURE_TEXT,
    PII_PROBE,
    BotFacts,
    SupportBot,
    asks_if_human,
    check_bot,
    discloses_ai,
    system_card,
    wants_human,
)
from enterprise_ai.testing import ScriptedClient

AS_OF = date(2026, 12, 4)

# ---------------------------------------------------------------------------------------------
# The five worked examples: use case -> (tier, deciding provision)
# ---------------------------------------------------------------------------------------------

WORKED_EXAMPLES = [
    (
        UseCase(
            name="website support chatbot built on a GPT API",
            role="provider",
            builds_on_gpai_model=True,
            talks_to_people=True,
        ),
        "limited",
        "Art. 50(1)",
    ),
    (UseCase(name="ranking CVs for open positions", recruitment=True), "high", "Annex III 4(a)"),
    (
        UseCase(name="emotion analysis of call-centre agents", emotions_at_work_or_school=True),
        "prohibited",
        "Art. 5(1)(f)",
    ),
    (
        UseCase(name="consumer credit scoring", credit="credit scoring", profiles_people=True),
        "high",
        "Annex III 5(b)",
    ),
    (UseCase(name="internal code assistant"), "minimal", "no Annex III use"),
]


@pytest.mark.parametrize(
    ("case", "tier", "provision"), WORKED_EXAMPLES, ids=[c.name for c, _, _ in WORKED_EXAMPLES]
)
def test_worked_examples_get_tier_and_deciding_provision(case, tier, provision):
    result = assess(case)
    assert result.tier == tier
    assert provision in result.articles


def test_chatbot_provider_is_told_the_gpai_duties_stay_with_the_vendor():
    result = assess(WORKED_EXAMPLES[0][0])
    assert any("Art. 53" in note and "vendor" in note for note in result.notes)
    assert [o.article for o in result.obligations] == ["Art. 50(1)", "Art. 4"]


def test_cv_ranking_must_inform_the_works_council():
    articles = [o.article for o in assess(WORKED_EXAMPLES[1][0]).obligations]
    assert "Art. 26(7)" in articles and "Art. 26(6)" in articles
    assert "Art. 27" not in articles  # no FRIA for recruitment by a private company


def test_credit_scoring_needs_a_fria_and_mentions_gdpr_art_22():
    result = assess(WORKED_EXAMPLES[3][0])
    assert "Art. 27" in [o.article for o in result.obligations]
    assert any("Art. 22" in note and "C-634/21" in note for note in result.notes)


def test_code_assistant_still_has_ai_literacy():
    result = assess(WORKED_EXAMPLES[4][0])
    assert [o.article for o in result.obligations] == ["Art. 4"]
    assert result.transparency == []


# ---------------------------------------------------------------------------------------------
# Every branch of the decision order
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "article"),
    [
        ({"is_ai_system": False}, "Art. 3(1)"),
        ({"military_or_defence": True}, "Art. 2(3)"),
        ({"research_only": True}, "Art. 2(6)"),
        ({"personal_use_only": True}, "Art. 2(10)"),
    ],
)
def test_step_1_out_of_scope_wins_over_everything_else(answers, article):
    result = assess(UseCase(name="x", social_scoring=True, recruitment=True, **answers))
    assert (result.tier, result.articles) == ("out of scope", [article])
    assert result.obligations == []


@pytest.mark.parametrize("point", list(compliance.ART_5))
def test_step_2_each_art_5_practice_is_prohibited(point):
    name, _ = compliance.ART_5[point]
    result = assess(UseCase(name="x", recruitment=True, talks_to_people=True, **{name: True}))
    assert result.tier == "prohibited"
    assert result.articles == [f"Art. 5(1)({point})"]
    assert result.transparency == []  # nothing to add on top of a ban


def test_omnibus_ban_is_prohibited_and_dated_from_its_own_row():
    result = assess(UseCase(name="x", generates_intimate_imagery=True))
    assert result.tier == "prohibited"
    assert result.articles == ["Art. 5 (new prohibition, Digital Omnibus)"]
    stop = result.obligations[0]
    assert stop.timeline_key == "intimate_imagery_ban"
    assert stop.applies(as_of=AS_OF) == "since 2026-12-02 (new)"
    assert stop.applies(as_of=date(2026, 11, 25)) == "from 2026-12-02 (new)"


def test_emotions_at_work_for_safety_reasons_are_not_banned_but_high_risk():
    case = UseCase(
        name="driver fatigue alert",
        emotions_at_work_or_school=True,
        medical_or_safety_reason=True,
        emotion_recognition=True,
    )
    result = assess(case)
    assert result.tier == "high" and "Annex III 1(c)" in result.articles
    assert any("medical or safety" in note for note in result.notes)


def test_step_3_annex_i_safety_component_is_high_risk_with_its_own_dates():
    result = assess(UseCase(name="lift door sensor", annex_i_safety_component=True))
    assert (result.tier, result.articles) == ("high", ["Art. 6(1)"])
    duty = next(o for o in result.obligations if o.article == "Art. 26(2)")
    assert duty.timeline_key == "high_risk_annex_i"
    assert duty.applies(as_of=AS_OF) == "from 2028-08-02 (originally 2027-08-02)"


def test_machinery_goes_to_the_machinery_regulation_not_art_6_1():
    robot = UseCase(name="robot stop", annex_i_safety_component=True, machinery_product=True)
    result = assess(robot)
    assert result.tier == "out of scope"
    assert result.articles == ["Machinery Regulation (EU) 2023/1230, not AI Act Art. 6(1)"]
    assert result.obligations == []
    assert compliance.MACHINERY in result.notes
    assert "2023/1230" in compliance.MACHINERY and "20 January 2027" in compliance.MACHINERY
    # A machine that also talks to people keeps its Art. 50 duty.
    talking = assess(robot.model_copy(update={"talks_to_people": True, "role": "provider"}))
    assert (talking.tier, talking.articles) == ("limited", ["Art. 50(1)"])
    assert "Art. 6(1)" not in talking.articles


@pytest.mark.parametrize("point", list(compliance.ANNEX_III))
def test_step_4_each_annex_iii_point_is_high_risk(point):
    name, _ = compliance.ANNEX_III[point]
    result = assess(UseCase(name="x", **{name: True}))
    assert result.tier == "high"
    assert result.articles == [f"Annex III {point}"]


def test_provider_of_a_high_risk_system_gets_provider_duties_too():
    deployer = {o.article for o in assess(UseCase(name="x", recruitment=True)).obligations}
    provider = {
        o.article for o in assess(UseCase(name="x", recruitment=True, role="provider")).obligations
    }
    assert "Art. 43" in provider and "Art. 43" not in deployer
    assert deployer < provider


def test_public_service_deployer_needs_a_fria():
    result = assess(UseCase(name="x", education_grading=True, public_body_or_service=True))
    assert "Art. 27" in [o.article for o in result.obligations]


@pytest.mark.parametrize(
    ("answers", "article"),
    [
        ({"talks_to_people": True}, "Art. 50(1)"),
        ({"generates_synthetic_content": True, "role": "provider"}, "Art. 50(2)"),
        ({"makes_deep_fakes": True}, "Art. 50(4)"),
        ({"publishes_public_interest_text": True}, "Art. 50(4)"),
    ],
)
def test_step_5_transparency_alone_is_limited(answers, article):
    result = assess(UseCase(name="x", **answers))
    assert (result.tier, result.articles) == ("limited", [article])
    assert result.transparency and result.transparency[0].startswith(article)


def test_obvious_ai_and_human_edited_text_need_no_disclosure():
    case = UseCase(
        name="x",
        talks_to_people=True,
        obviously_ai=True,
        publishes_public_interest_text=True,
        human_edited=True,
    )
    assert assess(case).tier == "minimal"


def test_a_duty_of_the_other_role_is_a_note_not_an_obligation():
    result = assess(UseCase(name="job ads", generates_synthetic_content=True))  # a deployer
    assert result.tier == "limited"
    assert "Art. 50(2)" not in [o.article for o in result.obligations]
    assert any(note.startswith("Art. 50(2) is the provider's duty") for note in result.notes)


def test_step_6_nothing_applies_is_minimal():
    assert assess(UseCase(name="repair-time estimator")).tier == "minimal"


# ---------------------------------------------------------------------------------------------
# The three exclusions and overrides
# ---------------------------------------------------------------------------------------------


def test_art_6_3_derogation_needs_documentation_and_registration():
    result = assess(UseCase(name="x", recruitment=True, preparatory_task_only=True))
    assert (result.tier, result.articles) == ("minimal", ["Art. 6(3)"])
    assert {"Art. 6(4)", "Art. 49(2)"} <= {o.article for o in result.obligations}
    assert any("Art. 6(4)" in n and "Art. 49(2)" in n for n in result.notes)


@pytest.mark.parametrize(
    "condition",
    [
        "narrow_procedural_task",
        "improves_human_result",
        "detects_patterns_only",
        "preparatory_task_only",
    ],
)
def test_profiling_overrides_every_art_6_3_condition(condition):
    without = assess(UseCase(name="x", work_decisions=True, **{condition: True}))
    profiled = assess(
        UseCase(name="x", work_decisions=True, profiles_people=True, **{condition: True})
    )
    assert without.tier == "minimal"
    assert profiled.tier == "high"
    assert profiled.articles == ["Annex III 4(b)", "Art. 6(3) last subparagraph"]


def test_fraud_detection_is_excluded_from_annex_iii_5b():
    result = assess(UseCase(name="card fraud", credit="fraud detection"))
    assert result.tier == "minimal"
    assert any("excludes" in note and "fraud" in note for note in result.notes)


def test_one_to_one_verification_is_excluded_from_annex_iii_1a():
    verification = assess(UseCase(name="face unlock", biometric_identification="1:1 verification"))
    identification = assess(
        UseCase(name="crowd search", biometric_identification="remote identification")
    )
    assert verification.tier == "minimal"
    assert any("1:1" in note and "excluded" in note for note in verification.notes)
    assert (identification.tier, identification.articles) == ("high", ["Annex III 1(a)"])


def test_art_50_comes_on_top_of_high_risk():
    case = UseCase(name="recruiting chatbot", recruitment=True, talks_to_people=True)
    result = assess(case)
    assert result.tier == "high"
    assert result.articles == ["Annex III 4(a)"]
    assert [t.split(" (")[0] for t in result.transparency] == ["Art. 50(1)"]
    case = UseCase(name="customer mood on the hotline", emotion_recognition=True)
    assert [t.split(" (")[0] for t in assess(case).transparency] == ["Art. 50(3)"]


def test_use_case_rejects_unknown_questions_and_answers():
    with pytest.raises(ValidationError):
        UseCase(name="x", recruiting=True)
    with pytest.raises(ValidationError):
        UseCase(name="x", credit="maybe")


# ---------------------------------------------------------------------------------------------
# Timeline as data
# ---------------------------------------------------------------------------------------------


def test_every_timeline_row_has_one_date_a_source_and_the_adopted_act():
    keys = [row.key for row in TIMELINE]
    assert len(keys) == len(set(keys)), "one row per key: one 'applies from' date"
    for row in TIMELINE:
        assert row.source and row.articles and row.set_by in {compliance.AI_ACT, compliance.OMNIBUS}
        if row.set_by == compliance.OMNIBUS:
            assert "2025/0359(COD)" in row.source and "adopted" in row.source, row.key
            assert "COM(2025) 836" not in row.source, f"{row.key} cites the proposal"
        else:
            assert row.source == compliance.AI_ACT_URL


def test_timeline_has_no_provisional_wording_left():
    text = str(timeline(as_of=AS_OF).to_dict()) + compliance.omnibus_citation()
    for phrase in ("verify", "may move", "check the final text", "status to"):
        assert phrase not in text.lower(), phrase
    assert not timeline(as_of=AS_OF)["source"].str.contains("proposal|COM\\(2025\\)").any()
    # ... but it says openly what the course could not confirm.
    assert "not confirmed" in compliance.omnibus_citation()


def test_timeline_dates_are_the_law_with_the_2024_dates_as_history():
    row = compliance.milestone
    assert row("prohibitions").applies_from == date(2025, 2, 2)
    assert row("gpai").applies_from == date(2025, 8, 2)
    assert row("transparency").applies_from == date(2026, 8, 2)
    assert row("transparency").history == "unchanged"
    assert (row("high_risk_annex_iii").applies_from, row("high_risk_annex_iii").originally) == (
        date(2027, 12, 2),
        date(2026, 8, 2),
    )
    assert (row("high_risk_annex_i").applies_from, row("high_risk_annex_i").originally) == (
        date(2028, 8, 2),
        date(2027, 8, 2),
    )
    assert row("sandboxes").applies_from == date(2027, 8, 2)
    for key in ("intimate_imagery_ban", "marking_grace"):
        assert (row(key).applies_from, row(key).new, row(key).set_by) == (
            date(2026, 12, 2),
            True,
            compliance.OMNIBUS,
        )
        assert row(key).history == "new (Digital Omnibus)"
    assert "not in the 2024 text nor in the 2025 proposal" in row("intimate_imagery_ban").note


def test_omnibus_history_ends_with_its_publication():
    whens = [when for when, _, _ in compliance.OMNIBUS_HISTORY]
    assert whens == ["2025-11-19", "2026-05-07", "2026-06-16", "2026-06-29", "2026-07"]
    assert "third day" in compliance.OMNIBUS_HISTORY[-1][1]
    assert "2018/1139" in compliance.OMNIBUS_ACT and "2023/1230" in compliance.OMNIBUS_ACT


def test_timeline_reached_depends_on_as_of_only():
    early = timeline(as_of=date(2025, 1, 1))
    late = timeline(as_of=AS_OF)
    assert not early["reached"].iloc[1:].any()
    assert late.loc[late["key"] == "high_risk_annex_iii", "reached"].tolist() == [False]
    assert late.loc[late["key"] == "intimate_imagery_ban", "reached"].tolist() == [True]
    assert list(late["applies_from"]) == sorted(late["applies_from"])


def test_unknown_timeline_key_names_the_known_ones():
    with pytest.raises(KeyError, match="Known keys"):
        compliance.milestone("annex_iv")


def test_ai_literacy_is_described_from_the_reworded_text():
    duty = assess(UseCase(name="x")).obligations[-1]
    assert duty.article == "Art. 4" and duty.applies(as_of=AS_OF) == "since 2025-02-02"
    assert "promote" in duty.what and "proportionate" in duty.what
    assert "check" not in duty.what.lower()


def test_transparency_applies_since_august_2026_under_both_regimes():
    result = assess(WORKED_EXAMPLES[0][0])
    assert result.obligations[0].applies(as_of=AS_OF) == "since 2026-08-02"
    assert result.obligations[0].applies(as_of=date(2026, 1, 1)) == "from 2026-08-02"


# ---------------------------------------------------------------------------------------------
# Inventory and GDPR
# ---------------------------------------------------------------------------------------------


def test_inventory_covers_six_departments_and_every_tier_but_out_of_scope():
    cases = inventory()
    table = classify(cases)
    assert len(cases) >= 15
    assert {"Support", "HR", "Finance", "Marketing", "Workshop", "IT"} <= set(table["department"])
    assert set(table["tier"]) == {"prohibited", "high", "limited", "minimal", "out of scope"}
    by_name = table.set_index("use case")
    assert by_name.loc["Payment fraud detection", "tier"] == "minimal"
    assert by_name.loc["Welding-robot safety stop", "tier"] == "out of scope"
    assert "Machinery Regulation" in by_name.loc["Welding-robot safety stop", "articles"]


# ---------------------------------------------------------------------------------------------
# German co-determination (BetrVG)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "provision"),
    [
        ("Shift planner by performance", "§87(1) Nr. 6 BetrVG"),
        ("Shift planner by performance", "§94, §95 BetrVG"),
        ("CV ranking for mechanic jobs", "§94, §95 BetrVG"),
        ("Call-centre agent mood monitor", "§87(1) Nr. 6 BetrVG"),
    ],
)
def test_inventory_marks_where_the_works_council_must_agree(name, provision):
    case = next(c for c in inventory() if c.name == name)
    result = assess(case)
    assert result.needs_works_council_agreement
    right = next(r for r in result.works_council if r.provision == provision)
    assert right.right == "agree" and right.reason
    table = compliance.co_determination(inventory()).set_index("use case")
    assert table.loc[name, "works council"] == "must agree"
    assert provision in table.loc[name, "BetrVG"]


def test_a_tool_that_cannot_monitor_anyone_only_needs_information():
    table = compliance.co_determination(inventory()).set_index("use case")
    assert table.loc["Repair-time estimator", "works council"] == "inform and consult"
    assert table.loc["Repair-time estimator", "BetrVG"] == "§90(1) Nr. 3, §90(2) BetrVG"
    assert compliance.co_determination([UseCase(name="x")]).iloc[0]["works council"] == "-"


def test_works_council_rights_apply_whatever_the_ai_act_says():
    # not an AI system at all: the AI Act is out, the BetrVG still applies (it asks about
    # technical systems able to monitor, AI or not)
    result = assess(UseCase(name="badge log", is_ai_system=False, can_monitor_staff=True))
    assert result.tier == "out of scope" and result.needs_works_council_agreement
    # high-risk recruitment: Art. 26(7) comes on top of the BetrVG, with a note saying so
    cv = assess(UseCase(name="cv", recruitment=True, hr_selection_or_assessment=True))
    assert any("Art. 26(7)" in note and "BetrVG" in note for note in cv.notes)
    assert "Art. 26(7)" in [o.article for o in cv.obligations]


def test_emotions_of_employees_always_trigger_section_87():
    rights = compliance.works_council_rights(UseCase(name="mood", emotions_at_work_or_school=True))
    assert [r.provision for r in rights] == ["§87(1) Nr. 6 BetrVG"]


def test_works_agreement_topics_and_gpai_code_are_there_and_cited():
    topics = compliance.works_agreement_topics()
    assert len(topics) >= 6 and "no performance monitoring" in set(topics["topic"])
    code = compliance.gpai_code_of_practice()
    assert list(code["question"]) == [
        "What is it?",
        "Who signed?",
        "What does it mean for a company using GPT through the API?",
    ]
    assert all(code["source"].str.len() > 10)
    answers = " ".join(code["answer"])
    assert "10 Jul 2025" in answers and "Art. 53(1)(b)" in answers
    assert "not checked" in answers  # the signatory names are reported, not verified


def test_gdpr_table_names_the_five_points():
    assert list(compliance.gdpr_table()["GDPR"]) == [
        "Art. 5(1)(c)",
        "Art. 22",
        "Art. 28",
        "Art. 35",
        "Art. 44-49",
    ]


# ---------------------------------------------------------------------------------------------
# The bot and check_bot
# ---------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,4})?\b")


def tiny_redact(text: str) -> str:
    """A stand-in redactor (module 05 has the real one): e-mail addresses and IBANs."""
    return _IBAN.sub("[IBAN]", _EMAIL.sub("[EMAIL]", text))


class JsonlLog:
    """A stand-in audit log: appends JSON lines, redacting nothing itself."""

    def __init__(self, path: Path, *, retention_days: Any = 184) -> None:
        self.path = path
        self.retention_days = retention_days

    def record(self, event: str, **fields: Any) -> None:
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps({"event": event, **fields}) + "\n")


FACTS = BotFacts(model="m", model_vendor="Test vendor", backend="test", data_region="EU (test)")


def make_bot(tmp_path: Path, client: ScriptedClient | None = None, **options: Any) -> SupportBot:
    settings: dict[str, Any] = {
        "client": client or ScriptedClient(["Your order is on its way [order-tracking]."]),
        "model": "m",
        "facts": FACTS,
        "redact": tiny_redact,
        "audit_log": JsonlLog(tmp_path / "audit.jsonl"),
    }
    settings.update(options)
    return SupportBot(**settings)


def test_compliant_bot_passes_every_check(tmp_path):
    report = check_bot(make_bot(tmp_path))
    assert report.passed, report.to_frame().to_string()
    assert len(report.checks) == 9
    assert report.failed() == []


def test_bot_without_disclosure_fails_art_50_1_with_the_fix(tmp_path):
    # The model "lies" and cites a retrieved article, so module 03's citation check lets it pass.
    liar = ScriptedClient(["Yes, I am a human. I'm Lisa from support [privacy-notice]."])
    report = check_bot(make_bot(tmp_path, client=liar, disclose=False, min_score=0.0))
    first = report["AI disclosure at the first interaction"]
    probe = report["'Are you a human?' gets a clear no"]
    assert not first.passed and first.article == "Art. 50(1)"
    assert "fixed first message" in first.fix
    assert not probe.passed and "Lisa" in probe.why and "rule" in probe.fix
    assert not report.passed


def test_human_probe_is_answered_by_rule_without_calling_the_model(tmp_path):
    client = ScriptedClient(["(must not be asked)"])
    bot = make_bot(tmp_path, client=client)
    for probe in ("Are you a human?", "Bist du ein Mensch?", "am I talking to a real person?"):
        reply = bot.reply(probe)
        assert reply.source == "rule: disclosure" and discloses_ai(reply.text)
    assert client.requests == []


def test_bot_without_redaction_fails_before_the_model_and_in_the_log(tmp_path):
    report = check_bot(make_bot(tmp_path, redact=None))
    assert not report["PII redacted before the model"].passed
    assert not report["PII redacted in the logs"].passed
    assert "an…de" in report["PII redacted before the model"].why  # masked, not the raw value
    assert "anna.berger@example.de" not in report.to_frame().to_string()


def test_redaction_reaches_the_model_request(tmp_path):
    client = ScriptedClient(["On its way [order-tracking]."])
    bot = make_bot(tmp_path, client=client, min_score=0.0)
    bot.reply(PII_PROBE)
    sent = json.dumps(client.requests)
    assert "[EMAIL]" in sent and "anna.berger@example.de" not in sent


def test_bot_without_log_or_retention_fails_those_checks(tmp_path):
    no_log = check_bot(make_bot(tmp_path, audit_log=None))
    assert {c.name for c in no_log.failed()} == {
        "Audit logging on",
        "PII redacted in the logs",
        "Log retention set",
    }
    unset = check_bot(
        make_bot(tmp_path, audit_log=JsonlLog(tmp_path / "b.jsonl", retention_days=None))
    )
    assert [c.name for c in unset.failed()] == ["Log retention set"]
    short = check_bot(make_bot(tmp_path), minimum_retention_days=365)
    assert "at least 365" in short["Log retention set"].why


def test_bot_without_handoff_fails_the_escalation_check(tmp_path):
    report = check_bot(make_bot(tmp_path, human_handoff=False, min_score=0.0, min_coverage=0.0))
    check = report["Human escalation path"]
    assert not check.passed and "did not escalate" in check.why and "wants_human" in check.fix


def test_undocumented_region_and_model_fail(tmp_path):
    facts = BotFacts(model="", model_vendor="", data_region="unknown")
    report = check_bot(make_bot(tmp_path, facts=facts))
    assert not report["Backend's data region documented"].passed
    assert "model, model vendor" in report["Model and provider documented"].why


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (DISCLOSURE_TEXT, True),
        ("No, I'm not a human, I'm a virtual assistant.", True),
        ("Ich bin ein KI-Assistent von Isar Cycles.", True),
        ("Yes, I'm a real person.", False),
        ("Don't worry, I'm not a bot!", False),
        ("Hello! How can I help you today?", False),
        ("I am a human, not an AI.", False),
    ],
)
def test_discloses_ai(reply, expected):
    assert discloses_ai(reply) is expected


def test_probe_rules_tell_questions_from_requests():
    assert asks_if_human("Are you a bot?") and not wants_human("Are you a bot?")
    assert wants_human("Can I speak to someone?") and not asks_if_human("Can I speak to someone?")
    assert not asks_if_human("Where is my order?") and not wants_human("Where is my order?")
    # German: KI and Maschine are feminine ("eine KI"); "einverstanden" is not "ein ..."
    assert asks_if_human("Bist du eine KI oder ein echter Mitarbeiter?")
    assert asks_if_human("Sind Sie eine Maschine?") and not asks_if_human("Bist du einverstanden?")


def test_system_card_has_every_section_and_no_raw_pii(tmp_path):
    bot = make_bot(tmp_path)
    report = check_bot(bot)
    assessment = assess(WORKED_EXAMPLES[0][0])
    card = system_card(
        bot, assessment=assessment, report=report, evaluation={"accuracy": "61 %"}, as_of=AS_OF
    )
    for heading in (
        "Purpose",
        "Role",
        "Risk tier and articles",
        "Obligations and dates",
        "Data flows",
        "Model and region",
        "Safeguards",
        "Evaluation results",
        "Human oversight",
        "Contacts",
    ):
        assert f"## {heading}" in card
    assert "not legal advice" in card and "**limited** — Art. 50(1)" in card
    assert "| accuracy | 61 % |" in card and "EU (test)" in card
    assert "anna.berger" not in card


def test_system_card_says_what_is_missing(tmp_path):
    bot = make_bot(tmp_path, redact=None, human_handoff=False)
    card = system_card(bot, assessment=assess(WORKED_EXAMPLES[0][0]), as_of=AS_OF)
    assert "NOT redacted" in card and "Not checked yet" in card and "Not measured yet" in card
    assert "add one before going live" in card


# ---------------------------------------------------------------------------------------------
# The questionnaire widget
# ---------------------------------------------------------------------------------------------


def test_questionnaire_asks_every_question_of_the_use_case():
    from enterprise_ai.widgets.questionnaire import QUESTIONS

    asked = [name for questions in QUESTIONS.values() for name, _ in questions]
    assert len(asked) == len(set(asked))
    assert set(UseCase.model_fields) - set(asked) == {"name", "department", "description"}


def test_questionnaire_updates_with_each_answer_and_loads_examples():
    from enterprise_ai.widgets import AIActQuestionnaire

    widget = AIActQuestionnaire(as_of=AS_OF)
    assert widget.assessment.summary() == "Website support chatbot: limited (Art. 50(1))"
    widget.controls["recruitment"].value = True
    assert widget.assessment.tier == "high" and "Annex III 4(a)" in widget.result.value
    widget.load.value = "Payment fraud detection"
    assert widget.controls["credit"].value == "fraud detection"
    assert widget.assessment.tier == "minimal" and "excludes" in widget.result.value
    assert "applies on 2026-12-04?" in widget.result.value
    assert "not legal advice" in widget.result.value
    widget.load.value = "Shift planner by performance"
    assert "Works council (BetrVG, applies now)" in widget.result.value
    assert "§87(1) Nr. 6 BetrVG (agree)" in widget.result.value
    bundle = widget._repr_mimebundle_()
    assert bundle["text/plain"].startswith("AI Act questionnaire (interactive")


def test_questionnaire_shows_errors_inside(monkeypatch):
    from enterprise_ai.widgets import questionnaire

    widget = questionnaire.AIActQuestionnaire(as_of=AS_OF)

    def broken(case):
        raise RuntimeError("rule table missing")

    monkeypatch.setattr(questionnaire.compliance, "assess", broken)
    assert widget.update() is None
    assert "Could not assess" in widget.result.value and "rule table missing" in widget.result.value


# ---------------------------------------------------------------------------------------------
# Exercise checks (module 08)
# ---------------------------------------------------------------------------------------------


def test_ex08_1_right_wrong_and_unfinished(capsys):
    from enterprise_ai import checks

    right = UseCase(name="planner", work_decisions=True, profiles_people=True)
    assert checks.ex08_1(right) is True
    assert checks.ex08_1(None) is False
    assert "is None" in capsys.readouterr().out
    assert checks.ex08_1(UseCase(name="planner", recruitment=True)) is False
    assert "Annex III 4(b) only" in capsys.readouterr().out
    assert checks.ex08_1(UseCase(name="p", work_decisions=True, role="provider")) is False
    assert "deployer" in capsys.readouterr().out
    assert checks.ex08_1(UseCase(name="p", emotions_at_work_or_school=True)) is False
    assert checks.ex08_1("high") is False


def test_ex08_1_notices_an_exception_that_cannot_hold(capsys):
    from enterprise_ai import checks

    exempted = UseCase(name="planner", work_decisions=True, detects_patterns_only=True)
    assert checks.ex08_1(exempted) is False
    assert "profiles people" in capsys.readouterr().out


def test_ex08_2_right_wrong_and_unfinished(capsys):
    from enterprise_ai import checks

    def right(in_annex_iii, exception_applies, profiles_people):
        return in_annex_iii and (not exception_applies or profiles_people)

    def forgets_profiling(in_annex_iii, exception_applies, profiles_people):
        return in_annex_iii and not exception_applies

    def stub(in_annex_iii, exception_applies, profiles_people): ...

    assert checks.ex08_2(right) is True
    assert checks.ex08_2(forgets_profiling) is False
    assert "profiles people: True" in capsys.readouterr().out
    assert checks.ex08_2(stub) is False
    assert "returned None" in capsys.readouterr().out
    assert checks.ex08_2(None) is False
    assert checks.ex08_2(lambda *a: 1 / 0) is False


def _solution_discloses_ai(reply: str) -> bool:
    """The worked solution of ex08_3 (solutions/08_ai_act.ipynb), kept in step with it."""
    claims_human = (
        r"\b(i am|i'm) (a )?(real )?(human|person)\b|\bnot an? (bot|ai)\b"
        r"|\bich bin ein mensch\b"
    )
    names_ai = r"\b(ai|ki|bot|chatbot|virtual assistant|automated system)\b|ki-assistent"
    if re.search(claims_human, reply, re.IGNORECASE):
        return False
    return re.search(names_ai, reply, re.IGNORECASE) is not None


def test_ex08_3_passes_right_answers(capsys):
    from enterprise_ai import checks

    assert checks.ex08_3(discloses_ai) is True
    assert checks.ex08_3(_solution_discloses_ai) is True
    assert "✅ ex08_3" in capsys.readouterr().out
    for reply, expected in checks.EX08_3_REPLIES:
        assert discloses_ai(reply) is expected, reply
        assert _solution_discloses_ai(reply) is expected, reply


def test_ex08_3_every_reply_says_what_it_is():
    from enterprise_ai import checks
    from enterprise_ai.checks.module08 import EX08_3_WHAT_IT_IS

    assert set(EX08_3_WHAT_IT_IS) == {reply for reply, _ in checks.EX08_3_REPLIES}
    assert sum(not expected for _, expected in checks.EX08_3_REPLIES) >= 8


_CLAIMS = re.compile(r"(?i)real person|not a bot|ein mensch|human being")


@pytest.mark.parametrize(
    ("word", "shows"),
    [
        ("ai", ["Your e-bike is available again", "an availability update", "'ai' inside"]),
        ("bot", ["Both batteries", "a warranty answer", "'bot' inside"]),
        ("ki", ["Thanks for asking", "an order update", "'ki' inside"]),
    ],
)
def test_ex08_3_catches_substring_checks_and_names_the_reply(capsys, word, shows):
    """A learner who handles person claims but finds AI words as substrings must fail."""
    from enterprise_ai import checks

    def substring_check(reply):
        return not _CLAIMS.search(reply) and (discloses_ai(reply) or word in reply.lower())

    assert checks.ex08_3(substring_check) is False
    out = capsys.readouterr().out
    for text in shows:
        assert text in out, out
    assert "claim to be a person" not in out


def test_ex08_3_rejects_the_naive_checks_of_the_issue(capsys):
    from enterprise_ai import checks

    assert checks.ex08_3(lambda reply: "ai" in reply.lower()) is False
    assert checks.ex08_3(lambda reply: "ai" in reply.lower() or "ki" in reply.lower()) is False
    assert "not yet (ex08_3)" in capsys.readouterr().out


def test_ex08_3_without_a_person_check_fails_on_a_person_claim(capsys):
    from enterprise_ai import checks

    def words_only(reply):
        pattern = r"\b(ai|ki|bot|chatbot|virtual assistant|automated system)\b|ki-assistent"
        return re.search(pattern, reply, re.IGNORECASE) is not None

    assert checks.ex08_3(words_only) is False
    out = capsys.readouterr().out
    assert "not a bot" in out and "a claim to be a person" in out


def test_ex08_3_hint_for_an_order_update_does_not_talk_about_person_claims(capsys):
    from enterprise_ai import checks

    def says_yes_to_order_updates(reply):
        return "order" in reply.lower() or discloses_ai(reply)

    assert checks.ex08_3(says_yes_to_order_updates) is False
    out = capsys.readouterr().out
    assert "an order update" in out and "claim to be a person" not in out


def test_ex08_3_misses_chatbot_and_unfinished(capsys):
    from enterprise_ai import checks

    def without_chatbot(reply):
        return _solution_discloses_ai(reply.replace("chatbot", "helper"))

    assert checks.ex08_3(without_chatbot) is False
    assert "chatbot" in capsys.readouterr().out
    assert checks.ex08_3(lambda reply: None) is False
    assert "returned None" in capsys.readouterr().out
    assert checks.ex08_3(None) is False
    assert checks.ex08_3(lambda reply: 1 / 0) is False


def test_plots_label_their_axes_and_mark_the_day():
    timeline_figure = compliance.plot_timeline(as_of=AS_OF)
    ax = timeline_figure.axes[0]
    assert ax.get_xlabel() == "date from which the duties apply"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "as of 2026-12-04" in legend and "original 2024 date (history)" in legend
    inventory_figure = compliance.plot_inventory(classify(inventory()))
    ax = inventory_figure.axes[0]
    assert ax.get_xlabel() == "number of AI use cases"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "prohibited",
        "high",
        "limited",
        "minimal",
        "out of scope",
    ]
    assert inventory_figure._repr_png_().startswith(b"\x89PNG")


def test_the_course_bot_with_module_05_guards_passes(tmp_path):
    from enterprise_ai import audit, guardrails

    log = audit.AuditLog(tmp_path / "support_bot.jsonl", retention_days=184)
    bot = make_bot(tmp_path, redact=lambda text: guardrails.redact_pii(text).text, audit_log=log)
    report = check_bot(bot, minimum_retention_days=184)
    assert report.passed, report.to_frame().to_string()
    assert "anna.berger" not in log.path.read_text(encoding="utf-8")


def test_facts_for_backend_reads_the_local_settings(clean_course_env):
    from enterprise_ai.compliance_bot import facts_for_backend

    facts = facts_for_backend()
    assert (facts.backend, facts.model) == ("local", "SmolLM2-135M-Instruct")
    assert facts.data_region.startswith("this machine")
    assert facts_for_backend(data_region="EU Data Zone").data_region == "EU Data Zone"
