"""Per-stage response time of each spoken turn (endpointing, transcription, dialogue, TTS).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call_turns") as batch:
        batch.add_column(sa.Column("latency_ms", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_turns") as batch:
        batch.drop_column("latency_ms")
