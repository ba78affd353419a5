"""Handoffs with routing and summaries, call events, turn emotion, agents and their sessions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=60), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("username", name=op.f("uq_agents_username")),
    )
    op.create_table(
        "agent_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_sessions_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_agent_sessions_token_hash")),
    )
    op.create_index(op.f("ix_agent_sessions_agent_id"), "agent_sessions", ["agent_id"])
    op.create_table(
        "call_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("order_number", sa.String(length=12), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_events")),
    )
    op.create_index(op.f("ix_call_events_call_id"), "call_events", ["call_id"])
    with op.batch_alter_table("call_turns") as batch:
        batch.add_column(sa.Column("emotion", sa.String(length=20), nullable=True))
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("routing_rule", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("summary_json", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("accepted_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("accepted_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("closed_at", TIMESTAMP, nullable=True))
        batch.create_foreign_key(op.f("fk_handoffs_accepted_by_agents"), "agents", ["accepted_by"], ["id"])
    with op.batch_alter_table("handoffs") as batch:
        batch.alter_column("priority", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_constraint(op.f("fk_handoffs_accepted_by_agents"), type_="foreignkey")
        for column in ("closed_at", "accepted_at", "accepted_by", "summary_json", "routing_rule", "priority"):
            batch.drop_column(column)
    with op.batch_alter_table("call_turns") as batch:
        batch.drop_column("emotion")
    op.drop_index(op.f("ix_call_events_call_id"), table_name="call_events")
    op.drop_table("call_events")
    op.drop_index(op.f("ix_agent_sessions_agent_id"), table_name="agent_sessions")
    op.drop_table("agent_sessions")
    op.drop_table("agents")
