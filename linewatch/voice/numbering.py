"""voice.yaml ``numbering``: dialled numbers to E.164 and their destination class (docs/rating.md).

Owner: the rating part. A skeleton: the fields below are the contract; the owner completes them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

_STRICT = ConfigDict(extra="forbid", frozen=True)


class NumberingConfig(BaseModel):
    model_config = _STRICT
    country_code: str = Field(default="49", pattern=r"^[1-9][0-9]{0,2}$")
