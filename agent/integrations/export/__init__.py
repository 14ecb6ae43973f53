"""Export a spec's tasks (requirement IDs, acceptance criteria) to JSON, Markdown, Jira CSV, GitHub."""
