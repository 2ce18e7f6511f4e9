"""voice.yaml ``rate_plans``: a carrier contract's call tariff (docs/rating.md).

Owner: the rating part. A skeleton: the fields below are the contract; the owner completes them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

_STRICT = ConfigDict(extra="forbid", frozen=True)


class RatePlan(BaseModel):
    model_config = _STRICT
    name: str = Field(min_length=1, max_length=128)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
