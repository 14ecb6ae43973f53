"""Grounding a spec in the user's repository: walk --context paths, cut files into chunks along their
own structure, rank the chunks against the brief and each section with BM25, keep the best within a
token budget."""
