"""The Lambda service model Lamina serves: botocore's, with AWS's server-side patterns.

AWS's servers accept (and print, in validation errors) region patterns with an optional
European Sovereign Cloud prefix, ``(eusc-)?``, that the published model does not have yet.
"""

from __future__ import annotations

import json
from typing import Any

import botocore.session
from botocore.model import ServiceModel

_REGION = "[a-z]{2}((-gov)"
_SERVER_REGION = "(eusc-)?[a-z]{2}((-gov)"


def lambda_service_model() -> Any:
    loader = botocore.session.get_session().get_component("data_loader")
    raw = loader.load_service_model("lambda", "service-2")
    text = json.dumps(raw).replace(json.dumps(_REGION)[1:-1], json.dumps(_SERVER_REGION)[1:-1])
    return ServiceModel(json.loads(text), service_name="lambda")
