"""The knowledge base: policy answers for the bot, FAQs, and approved scripts for agents.

Content lives in `knowledge/articles/*.md` — plain Markdown with YAML front matter,
editable without programming (see knowledge/README.md). `content.load_articles` reads
it; `content.check` validates it (`voicebot kb check`).
"""
