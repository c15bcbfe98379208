"""The project dashboard: drift and quality of successive windows over time.

Panels select their series from the snapshots by metric, metric labels
(column, value_type) and the snapshot tags set in reports.py. The local
workspace storage of Evidently 0.7.23 matches a point to the first series
of a panel with the same metric and labels and only then checks the tags,
so the series of one panel must differ in metric or labels, not in tags
alone. The panels
live in one tab that this module owns: applying the dashboard replaces that
tab and leaves any other tab someone added by hand alone, so running it
again updates rather than duplicates.
"""

from __future__ import annotations

from evidently.sdk.models import DashboardPanelPlot, DashboardTabModel, PanelMetric
from evidently.sdk.panels import bar_plot_panel, counter_panel, line_plot_panel
from evidently.ui.workspace import Workspace

from monitoring import contract
from monitoring.reports import DRIFT_TAG, QUALITY_TAG
from monitoring.workspace import project

TAB = "Claim risk"
KEY_FEATURES = ("age", "annual_mileage", "home_area")

_GROUP_LEGENDS = {"F": "women (F)", "M": "men (M)"}

_SCORE_NOTE = (
    "Evidently's default tests: p-values (K-S, chi-square; drift below 0.05) while the reference has "
    "at most 1000 rows, distances (Wasserstein, Jensen-Shannon; drift at 0.1 or more) above."
)


def _drift(metric: str, legend: str, **labels: str) -> PanelMetric:
    return PanelMetric(legend=legend, metric=metric, metric_labels=labels, tags=[DRIFT_TAG])


def _quality(metric: str, legend: str, **labels: str) -> PanelMetric:
    return PanelMetric(legend=legend, metric=metric, metric_labels=labels, tags=[QUALITY_TAG])


def _claims(legend: str, categories: list[int], value_type: str) -> PanelMetric:
    """A CategoryCount of the target in the quality run; Evidently labels
    its points with the categories as Python prints the list."""
    return _quality("CategoryCount", legend, column=contract.TARGET, categories=str(categories), value_type=value_type)


def panels() -> list[DashboardPanelPlot]:
    """The panels, top to bottom."""
    share = _drift("DriftedColumnsCount", "share of drifted feature columns", value_type="share")
    return [
        counter_panel(
            title="Drifted feature columns",
            description=f"Share in the latest window; the dataset counts as drifted at {contract.DATASET_DRIFT_SHARE}.",
            values=[share],
            size="half",
            aggregation="last",
        ),
        counter_panel(
            title="Predictions",
            description="Rows in the latest window.",
            values=[_drift("RowCount", "rows")],
            size="half",
            aggregation="last",
        ),
        line_plot_panel(
            title="Share of drifted feature columns",
            description=f"Of the {len(contract.FEATURES)} feature columns, per window.",
            values=[share],
            size="half",
        ),
        line_plot_panel(
            title="Drift score per key feature",
            description=_SCORE_NOTE,
            values=[_drift("ValueDrift", column, column=column) for column in KEY_FEATURES],
            size="half",
        ),
        line_plot_panel(
            title="Mean predicted claim probability",
            description="Over all predictions of each window.",
            values=[_drift("MeanValue", "mean predicted probability", column=contract.PREDICTION)],
            size="half",
        ),
        line_plot_panel(
            title="Prediction drift score",
            description="Drift score of the predicted probability. " + _SCORE_NOTE,
            values=[_drift("ValueDrift", contract.PREDICTION, column=contract.PREDICTION)],
            size="half",
        ),
        line_plot_panel(
            title="Quality on labelled predictions",
            description="ROC AUC and log loss with the probability as score; points appear once outcomes arrive.",
            values=[_quality("RocAuc", "ROC AUC"), _quality("LogLoss", "log loss")],
            size="half",
        ),
        line_plot_panel(
            title="Estimated and realised ROC AUC",
            description=(
                "Estimated from each window's predictions alone, before any claim (CBPE, by the drift function), "
                "with its band of three sampling errors; realised once the window's outcomes arrive, however late. "
                "The estimate assumes a calibrated model and a shift of the inputs only: under concept drift, "
                "such as the accident spike, it stays put while the realised AUC moves."
            ),
            values=[
                _drift("MeanValue", "estimated ROC AUC", column="estimated_roc_auc"),
                _drift("MeanValue", "band, lower", column="estimated_roc_auc_lower"),
                _drift("MeanValue", "band, upper", column="estimated_roc_auc_upper"),
                _quality("RocAuc", "realised ROC AUC"),
            ],
            size="full",
        ),
        line_plot_panel(
            title="Predicted and observed claim rate",
            description="On the labelled predictions of each window: mean predicted probability and share of claims.",
            values=[
                _quality("MeanValue", "mean predicted probability", column=contract.PREDICTION),
                _claims("observed claim rate", [contract.POSITIVE_CLASS], "share"),
            ],
            size="half",
        ),
        line_plot_panel(
            title="Mean predicted probability by sex",
            description=(
                "Over the predictions of each group per window, the customers' sex joined from "
                f"{contract.ATTRIBUTES_PREFIX}. The disparate impact "
                f"({contract.PROTECTED_GROUP} over {contract.REFERENCE_GROUP}) is flagged in summary.json outside "
                f"[{contract.DISPARATE_IMPACT_LOWER}, {contract.DISPARATE_IMPACT_UPPER}]; "
                "a group without predictions in a window has no point."
            ),
            values=[
                _drift("MeanValue", _GROUP_LEGENDS[group], column=contract.group_column(group))
                for group in contract.GROUPS
            ],
            size="full",
        ),
        bar_plot_panel(
            title="Rows per window",
            description="Predictions, and those of them with an observed outcome.",
            values=[_drift("RowCount", "predictions"), _claims("labelled", [0, contract.POSITIVE_CLASS], "count")],
            size="full",
        ),
    ]


def apply(workspace: Workspace, project_name: str) -> list[DashboardPanelPlot]:
    """Create or replace the tab of panels on the project's dashboard; the panels added."""
    target = project(workspace, project_name)
    model = workspace.get_dashboard(target.id)
    ours = {panel_id for tab in model.tabs if tab.title == TAB for panel_id in tab.panels}
    model.tabs = [tab for tab in model.tabs if tab.title != TAB]
    model.panels = [panel for panel in model.panels if panel.id not in ours]
    added = panels()
    model.panels.extend(added)
    model.tabs.insert(0, DashboardTabModel(title=TAB, panels=[panel.id for panel in added]))
    workspace.save_dashboard(target.id, model)
    return added
