"""price alerts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import models.base


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('prices',
    sa.Column('symbol', sa.String(length=16), nullable=False),
    sa.Column('price', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('simulated', sa.Boolean(), nullable=False),
    sa.Column('observed_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('symbol', name=op.f('pk_prices'))
    )
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('user_pk', sa.Integer(), nullable=False),
    sa.Column('conversation_pk', sa.Integer(), nullable=False),
    sa.Column('symbol', sa.String(length=16), nullable=False),
    sa.Column('condition', sa.String(length=8), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('direction', sa.String(length=4), nullable=False),
    sa.Column('base_price', sa.Float(), nullable=True),
    sa.Column('window_seconds', sa.Integer(), nullable=True),
    sa.Column('repeat', sa.Boolean(), nullable=False),
    sa.Column('cooldown_seconds', sa.Integer(), nullable=False),
    sa.Column('band_pct', sa.Float(), nullable=False),
    sa.Column('expires_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('snoozed_until', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('armed', sa.Boolean(), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=True),
    sa.Column('last_fired_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('fire_count', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_pk'], ['conversations.id'], name=op.f('fk_alerts_conversation_pk_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_pk'], ['users.id'], name=op.f('fk_alerts_user_pk_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('user_pk', 'number', name=op.f('uq_alerts_user_pk'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_conversation_pk'), ['conversation_pk'], unique=False)
        batch_op.create_index('ix_alerts_state_symbol', ['state', 'symbol'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_user_pk'), ['user_pk'], unique=False)

    with op.batch_alter_table('occurrences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alert_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_occurrences_alert_id'), ['alert_id', 'due_at'])
        batch_op.create_foreign_key(batch_op.f('fk_occurrences_alert_id_alerts'), 'alerts', ['alert_id'], ['id'], ondelete='CASCADE')


def downgrade() -> None:
    with op.batch_alter_table('occurrences', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_occurrences_alert_id_alerts'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_occurrences_alert_id'), type_='unique')
        batch_op.drop_column('alert_id')

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_user_pk'))
        batch_op.drop_index('ix_alerts_state_symbol')
        batch_op.drop_index(batch_op.f('ix_alerts_conversation_pk'))

    op.drop_table('alerts')
    op.drop_table('prices')
