"""Interactive front ends (ipywidgets) over the library, one module per lesson.

Widgets only arrange inputs and show results; the work happens in the library functions they
call, which are tested on their own. Each widget:

* runs once when created, so a notebook saved with widget state shows a real answer on the
  published page;
* shows errors inside the widget (a missing key, an unreachable server) instead of raising;
* has a short ``text/plain`` form, so a page without widget support prints one readable line
  rather than a wall of ``VBox(children=…)``. Lessons put a static table after each widget.
"""

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
