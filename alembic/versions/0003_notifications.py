"""notifications

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import models.base

revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('notifications',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('sender', sa.String(length=330), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('targets', sa.JSON(), nullable=False),
    sa.Column('activity', sa.JSON(), nullable=False),
    sa.Column('deliver_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('cursor', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('unknown', sa.JSON(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_notifications_idempotency_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_due', ['status', 'deliver_at'], unique=False)

    with op.batch_alter_table('occurrences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notification_id', sa.String(length=32), nullable=True))
        batch_op.alter_column('payload',
               existing_type=sa.JSON(),
               nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_occurrences_notification_id'), ['notification_id', 'conversation_pk'])
        batch_op.create_index('ix_occurrences_notification', ['notification_id', 'id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_occurrences_notification_id_notifications'), 'notifications', ['notification_id'], ['id'], ondelete='CASCADE')



def downgrade() -> None:
    # Notification occurrences have no payload of their own; they can't outlive the table.
    op.execute("DELETE FROM occurrences WHERE notification_id IS NOT NULL")
    with op.batch_alter_table('occurrences', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_occurrences_notification_id_notifications'), type_='foreignkey')
        batch_op.drop_index('ix_occurrences_notification')
        batch_op.drop_constraint(batch_op.f('uq_occurrences_notification_id'), type_='unique')
        batch_op.alter_column('payload',
               existing_type=sa.JSON(),
               nullable=False)
        batch_op.drop_column('notification_id')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_due')

    op.drop_table('notifications')
