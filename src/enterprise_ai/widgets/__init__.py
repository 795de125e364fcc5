"""Interactive front ends (ipywidgets) over the library, one module per lesson.

Widgets only arrange inputs and show results; the work happens in the library functions they
call, which are tested on their own. Each widget:

* runs once when created, so a notebook saved with widget state shows a real answer on the
  published page;
* shows errors inside the widget (a missing key, an unreachable server) instead of raising;
* has a short ``text/plain`` form, so a page without widget support prints one readable line
  rather than a wall of ``VBox(children=…)``. Lessons put a static table after each widget.

Each widget module is imported on first use (``from enterprise_ai.widgets import
support_chat`` loads ``widgets.support_chat`` only), so a lesson does not wait for the libraries
behind the other ten widgets.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what editors and type checkers see; at run time __getattr__ loads these
    from enterprise_ai.widgets.capstone_report import CapstoneReportView, capstone_report_view
    from enterprise_ai.widgets.cost_calculator import CostCalculator, cost_calculator
    from enterprise_ai.widgets.eval_dashboard import EvalDashboard, eval_dashboard
    from enterprise_ai.widgets.playground import PromptPlayground, prompt_playground
    from enterprise_ai.widgets.questionnaire import AIActQuestionnaire, ai_act_questionnaire
    from enterprise_ai.widgets.redteam_console import RedTeamConsole, redteam_console
    from enterprise_ai.widgets.roi_sliders import RoiSliders, roi_sliders
    from enterprise_ai.widgets.support_chat import SupportChat, support_chat
    from enterprise_ai.widgets.tool_inspector import ToolInspector, tool_inspector
    from enterprise_ai.widgets.trace_viewer import TraceViewer, trace_viewer
    from enterprise_ai.widgets.triage_explorer import TriageExplorer, triage_explorer

__all__ = [
    "AIActQuestionnaire",
    "CapstoneReportView",
    "capstone_report_view",
    "CostCalculator",
    "EvalDashboard",
    "PromptPlayground",
    "RedTeamConsole",
    "RoiSliders",
    "SupportChat",
    "ToolInspector",
    "TraceViewer",
    "TriageExplorer",
    "ai_act_questionnaire",
    "cost_calculator",
    "eval_dashboard",
    "prompt_playground",
    "redteam_console",
    "roi_sliders",
    "support_chat",
    "tool_inspector",
    "trace_viewer",
    "triage_explorer",
]

#: Where each public name lives (module of this package).
_MODULES = {
    "CapstoneReportView": "capstone_report",
    "capstone_report_view": "capstone_report",
    "CostCalculator": "cost_calculator",
    "cost_calculator": "cost_calculator",
    "EvalDashboard": "eval_dashboard",
    "eval_dashboard": "eval_dashboard",
    "PromptPlayground": "playground",
    "prompt_playground": "playground",
    "AIActQuestionnaire": "questionnaire",
    "ai_act_questionnaire": "questionnaire",
    "RedTeamConsole": "redteam_console",
    "redteam_console": "redteam_console",
    "RoiSliders": "roi_sliders",
    "roi_sliders": "roi_sliders",
    "SupportChat": "support_chat",
    "support_chat": "support_chat",
    "ToolInspector": "tool_inspector",
    "tool_inspector": "tool_inspector",
    "TraceViewer": "trace_viewer",
    "trace_viewer": "trace_viewer",
    "TriageExplorer": "triage_explorer",
    "triage_explorer": "triage_explorer",
}


def __getattr__(name: str) -> Any:
    """Load the widget module that defines ``name`` the first time a notebook asks for it."""
    if name not in _MODULES:
        raise AttributeError(f"module 'enterprise_ai.widgets' has no attribute {name!r}")
    module = importlib.import_module(f"enterprise_ai.widgets.{_MODULES[name]}")
    # Bind every public name of that module now. Importing ``widgets.support_chat`` makes the
    # *module* an attribute of this package, under the same name as the function
    # ``support_chat``; without this, the next ``from ... import support_chat`` would get the
    # module.
    for public, home in _MODULES.items():
        if home == _MODULES[name]:
            globals()[public] = getattr(module, public)
    return globals()[name]


def __dir__() -> list[str]:
    return sorted(__all__)
