"""The scanning engine: normalisation, detectors, redaction and the policy-driven scanner.

Its modules run as mypyc-compiled C when `make compile` has built them from these very sources,
and as Python otherwise (compiled.py decides; AGENTBUS_GUARDRAIL_SCANNER=auto|compiled|interpreted).
"""

import os

from services.guardrail.scanning.compiled import ENV_VAR, choose_build

__path__, BUILD = choose_build(list(__path__), os.environ.get(ENV_VAR, "auto"))
