"""Opportunity fields Salesforce derives itself, shared by the generator and the store's writes.

StageName decides Probability (unless given), IsClosed, IsWon and the forecast category (from the
OpportunityStage rows); Amount × Probability gives ExpectedRevenue; CloseDate gives the fiscal
period (the demo org's fiscal year starts in January).
"""

from __future__ import annotations

from typing import Any

from smvue_demo_org.schema import ALL_STAGES

# API value → label, as ForecastCategoryName shows it.
FORECAST_NAMES = {"Pipeline": "Pipeline", "BestCase": "Best Case", "Forecast": "Commit",
                  "Closed": "Closed", "Omitted": "Omitted"}
STAGES = {name: (prob, closed, won, forecast) for name, prob, closed, won, forecast in ALL_STAGES}
# Fields whose change writes an OpportunityHistory row.
HISTORY_FIELDS = ("StageName", "Amount", "Probability", "CloseDate")
# Fields with field history tracking on (OpportunityFieldHistory / LeadHistory rows).
TRACKED = {
    "Opportunity": {"StageName": "Picklist", "Amount": "Currency", "CloseDate": "Date",
                    "OwnerId": "EntityId", "NextStep": "Text", "ForecastCategoryName": "Picklist"},
    "Lead": {"Status": "Picklist", "OwnerId": "EntityId", "Company": "Text", "Title": "Text"},
}


def stage_fields(stage: str) -> dict[str, Any]:
    """Probability, IsClosed, IsWon and forecast category of ``stage`` (ValueError if unknown)."""
    try:
        prob, closed, won, forecast = STAGES[stage]
    except KeyError:
        raise ValueError(f"bad value for restricted picklist field: {stage}") from None
    return {"Probability": prob, "IsClosed": int(closed), "IsWon": int(won),
            "ForecastCategory": forecast, "ForecastCategoryName": FORECAST_NAMES[forecast]}


def expected_revenue(amount: float | None, probability: float | None) -> float | None:
    if amount is None or probability is None:
        return None
    return round(amount * probability / 100, 2)


def fiscal(close_date: str | None) -> tuple[int | None, int | None]:
    """(FiscalYear, FiscalQuarter) of a ``YYYY-MM-DD`` close date."""
    if not close_date:
        return None, None
    return int(close_date[:4]), (int(close_date[5:7]) - 1) // 3 + 1


def derive(row: dict[str, Any], *, stage_changed: bool = True,
           probability_given: bool = False) -> None:
    """Fill an Opportunity row's derived fields in place from StageName, Amount and CloseDate.

    A stage change resets Probability to the stage default unless the caller set it too, as the
    Salesforce UI and API do.
    """
    if row.get("StageName") and stage_changed:
        derived = stage_fields(row["StageName"])
        if probability_given and row.get("Probability") is not None:
            derived.pop("Probability")
        row.update(derived)
    row["ExpectedRevenue"] = expected_revenue(row.get("Amount"), row.get("Probability"))
    row["FiscalYear"], row["FiscalQuarter"] = fiscal(row.get("CloseDate"))
