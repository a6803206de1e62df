"""The scanning engine: normalisation, detectors, redaction and the policy-driven scanner."""
