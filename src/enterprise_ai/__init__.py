"""enterprise_ai: the helper library of the Enterprise AI Adoption course.

Each lesson builds one piece in small notebook cells; the tested version lives here so later
lessons import it instead of depending on a learner's earlier cells. Start with::

    import enterprise_ai as eai
    client = eai.llm.get_client()

Modules (dependencies point one way; `lint-imports` checks the contracts in pyproject.toml):
    config, errors   settings and the model table; errors that name their fix
    local_server     SmolLM2 in llama.cpp on 127.0.0.1
    adapter          makes the local server speak tool calls and structured Responses
    llm              get_client(), default_model(), backend_info()              (lesson 00)
                     count_tokens(), context_window(), measure_latency()        (lesson 01)
    data             Isar Cycles' knowledge base, tickets, orders, eval and red-team sets
    costs            EUR per call and per month, hardware, price table         (lesson 01)
    charts           ChartFigure (matplotlib without pyplot), the cost chart   (lesson 01)
    triage           ticket triage with a schema, a keyword baseline, evaluation (lesson 02)
    kb, support      chunking, BM25 search, grounded answers with citations     (lesson 03)
    metering         count (and cap) model calls and tokens below the SDK
    evals            grade the bot on the eval set, error causes, review queue  (lesson 04)
    pii              find, redact, pseudonymise and restore personal data       (lesson 05)
    audit            an append-only JSONL audit log without raw PII             (lesson 05)
    guardrails       the guarded bot: injection detection, output moderation,   (lesson 05)
                     OWASP mapping; offers pii's and injection's functions too
    tools            order tools with validation, least privilege, approvals    (lesson 06)
    agents           agent loop with budgets, traces and human approval;        (lesson 07)
                     scenario suite
    compliance       AI Act decision order, timeline, inventory, GDPR, BetrVG   (lesson 08)
    compliance_bot   the deployed bot, check_bot() and its system card          (lesson 08)
    roi, pilot       business case: costs vs benefits, break-even, sensitivity;  (lesson 09)
                     pilot design, KPIs, AI-literacy plan, vendor decision matrix
    capstone         the go-live checklist as code: grade(agent) on a case suite (lesson 10)
                     plus check_bot
    testing          ScriptedClient: a real openai.OpenAI client answered by a script
                     (replies, JSON, tool calls, streams, errors, slowness)
    widgets, checks  notebook front ends and exercise checks
    notebooks        exercises from solutions, reproducible execution
    doctor, serve, progress, cli   the `course` command
"""

from enterprise_ai import config, errors, llm

__version__ = "0.1.0"
__all__ = ["__version__", "config", "errors", "llm"]
