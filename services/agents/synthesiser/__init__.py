"""The synthesiser: merges four reviews into one recommendation (code_review step `synthesis`)."""
