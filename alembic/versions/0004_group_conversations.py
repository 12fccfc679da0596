"""group conversations: once per conversation

A group conversation has one ``conversations`` row per member; notifications now go to
each (channel id, conversation id) once. An index finds a conversation's rows, and each
notification records which of its targets each send answers for.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_conversation', ['conversation_id', 'channel_id'], unique=False)
    # Existing notifications keep a null: their report names no matched targets.
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('matched', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('matched')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_conversation')
